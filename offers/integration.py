"""Ready-to-copy integration examples for an offer's owner: the postback in curl, Python, PHP
and Node (with the HMAC signature), the pixel, the JS snippet and the promo-code API."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from offers.models import Offer

CURL = """# the secret as a parameter
curl "{base}/postback?click_id=CLICK_ID&goal={goal}&txid=ORDER-1001{amount_q}&secret={secret}"

# or POST, form-encoded
curl -X POST {base}/postback -d click_id=CLICK_ID -d goal={goal} -d txid=ORDER-1001{amount_d} \\
     -d secret={secret}"""

PYTHON = """import hashlib, hmac, json, urllib.error, urllib.parse, urllib.request

SECRET = "{secret}"

def send_postback(click_id, order_id{amount_arg}):
    params = {{"click_id": click_id, "goal": "{goal}", "txid": order_id{amount_py}}}
    canonical = "&".join(
        urllib.parse.quote(k, safe="-._~") + "=" + urllib.parse.quote(v, safe="-._~")
        for k, v in sorted(params.items()))
    params["signature"] = hmac.new(SECRET.encode(), canonical.encode(),
                                   hashlib.sha256).hexdigest()
    url = "{base}/postback?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.load(response)       # {{"status": "ok", "conversion_id": ...}}
    except urllib.error.HTTPError as refused:
        return json.load(refused)            # {{"status": "cap_reached", "message": ...}}"""

PHP = """<?php
$secret = '{secret}';
$params = ['click_id' => $clickId, 'goal' => '{goal}', 'txid' => $orderId{amount_php}];
ksort($params, SORT_STRING);
$pairs = [];
foreach ($params as $k => $v) {{ $pairs[] = rawurlencode($k) . '=' . rawurlencode($v); }}
$params['signature'] = hash_hmac('sha256', implode('&', $pairs), $secret);
$url = '{base}/postback?' . http_build_query($params, '', '&', PHP_QUERY_RFC3986);
$context = stream_context_create(['http' => ['ignore_errors' => true, 'timeout' => 10]]);
$answer = json_decode(file_get_contents($url, false, $context), true);  // ['status' => 'ok']"""

NODE = """const crypto = require("crypto");
const SECRET = "{secret}";
const enc = (s) => encodeURIComponent(s)
  .replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

async function sendPostback(clickId, orderId{amount_arg_js}) {{
  const params = {{ click_id: clickId, goal: "{goal}", txid: orderId{amount_js} }};
  const canonical = Object.keys(params).sort()
    .map((k) => `${{enc(k)}}=${{enc(params[k])}}`).join("&");
  params.signature = crypto.createHmac("sha256", SECRET).update(canonical).digest("hex");
  const response = await fetch("{base}/postback?" + new URLSearchParams(params));
  return response.json();  // {{ status: "ok", message: "...", conversion_id: 123 }}
}}"""

PIXEL = """<!-- on the thank-you page: an image... -->
<img src="{base}/p/{offer_id}.gif?goal={goal}&txid=ORDER-1001{amount_q}"
     width="1" height="1" alt="">

<!-- ...or the script, which builds the same request -->
<script src="{base}/static/js/pixel.js" data-offer="{offer_id}" data-goal="{goal}"
        data-txid="ORDER-1001"{amount_attr} async></script>"""

PROMO = """curl -X POST {base}/api/v1/conversions \\
     -H "Authorization: Bearer YOUR_API_KEY" -H "Content-Type: application/json" \\
     -d '{{"promo_code": "PROMO_CODE", "goal": "{goal}", "txid": "ORDER-1001"{amount_json}}}'"""


@dataclass(frozen=True)
class Example:
    key: str
    title: object
    code: str


def examples(offer: Offer, base: str) -> list[Example]:
    goal = offer.goals[0] if offer.goals else None
    code = goal.code if goal else "GOAL"
    percent = goal is not None and goal.payout_type == "percent"
    values = {
        "base": base, "secret": offer.postback_secret, "goal": code, "offer_id": offer.id,
        "amount_q": "&amount=4990" if percent else "",
        "amount_d": " -d amount=4990" if percent else "",
        "amount_arg": ", amount_minor" if percent else "",
        "amount_arg_js": ", amountMinor" if percent else "",
        "amount_py": ", \"amount\": str(amount_minor)" if percent else "",
        "amount_php": ", 'amount' => (string) $amountMinor" if percent else "",
        "amount_js": ", amount: String(amountMinor)" if percent else "",
        "amount_attr": ' data-amount="4990"' if percent else "",
        "amount_json": ", \"amount\": 4990" if percent else "",
    }
    return [
        Example("curl", "curl", CURL.format(**values)),
        Example("python", "Python", PYTHON.format(**values)),
        Example("php", "PHP", PHP.format(**values)),
        Example("node", "Node.js", NODE.format(**values)),
        Example("pixel", _l("Pixel and JS snippet"), PIXEL.format(**values)),
        Example("promo", _l("Promo-code conversion (API)"), PROMO.format(**values)),
    ]
