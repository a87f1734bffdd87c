"""The integration examples on the advertiser's offer page work as printed: the Python and
Node snippets sign and send real postbacks to a real server (PHP: see the skip)."""

import shutil
import subprocess
import threading

import pytest
from werkzeug.serving import make_server

from offers import integration
from offers.services import GoalData
from tests.offers.conversion_helpers import assert_books_balance, conversions, live_setup


@pytest.fixture
def served(app):
    """The app on a free loopback port, as the advertiser's server would reach it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _examples(offer, base: str) -> dict[str, str]:
    return {example.key: example.code for example in integration.examples(offer, base)}


def test_the_python_example_signs_and_sends_a_postback(served, app_context):
    offer, _link, click_id = live_setup(goals=(GoalData("sale", "percent", 1000),),
                                        reference_amount=50_00)
    namespace: dict = {}
    exec(_examples(offer, served)["python"], namespace)  # noqa: S102 - our own example
    answer = namespace["send_postback"](click_id, "ORDER-PY", 4990)
    assert answer["status"] == "ok", answer
    refused = namespace["send_postback"]("01HZZZZZZZZZZZZZZZZZZZZZZZ", "ORDER-X", 100)
    assert refused["status"] == "unknown_click"
    assert [(c.txid, c.payout) for c in conversions()] == [("ORDER-PY", 4_99)]
    assert_books_balance()


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_node_example_signs_and_sends_a_postback(served, app_context, tmp_path):
    offer, _link, click_id = live_setup(goals=(GoalData("sale", "percent", 1000),),
                                        reference_amount=50_00)
    script = tmp_path / "postback.js"
    script.write_text(_examples(offer, served)["node"] + "\nsendPostback(process.argv[2], "
                      "'ORDER JS/1', 1250).then((r) => console.log(JSON.stringify(r)));\n")
    result = subprocess.run(["node", str(script), click_id], capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert '"status":"ok"' in result.stdout
    assert [c.txid for c in conversions()] == ["ORDER JS/1"]  # spaces and slashes sign too


@pytest.mark.skipif(shutil.which("php") is None, reason="php is not installed here; the PHP "
                    "example uses the same canonical string (ksort + rawurlencode)")
def test_the_php_example_signs_and_sends_a_postback(served, app_context, tmp_path):
    offer, _link, click_id = live_setup()
    script = tmp_path / "postback.php"
    script.write_text(_examples(offer, served)["php"].replace(
        "$clickId", f"'{click_id}'").replace("$orderId", "'ORDER-PHP'") +
        "\necho json_encode($answer);\n")
    result = subprocess.run(["php", str(script)], capture_output=True, text=True, timeout=30,
                            check=False)
    assert '"status":"ok"' in result.stdout, result.stdout + result.stderr
