"""conversions: `conversion_record`, a plain conversion's writes in one statement

A postback's writes were four statements in one transaction (the conversion, the ledger hold,
the hourly rollup, the log line), after a BEGIN, with a COMMIT: with the two reads before them,
eight round trips, which cost more CPU than the rules they carry out. For the usual conversion
(no caps, no earlier goal required, no funding queue, no outgoing postback) the postback lane
(offers/postback_direct.py) reads on a connection in autocommit and sends the writes as this one
function call, itself one transaction: three round trips in all.

The function writes nothing it was not given: the conversion row (its id taken from the
sequence beforehand), the hold's arguments for `ledger_post`, the rollup row's counters and the
log line all come from the app, which computed them with the same code as the full path. It
inserts the conversion `ON CONFLICT DO NOTHING` and answers 'duplicate' having written nothing
if an identical one won; it raises SQLSTATE CPN01 if the hold is not posted (short escrow,
say), which undoes the conversion too, and the app then runs the full path, which knows what to
do. Otherwise it answers 'posted' and the hold's transaction id.

Revision ID: 0021_conversion_record
Revises: 0020_ledger_balance_fast_path
Create Date: 2026-11-23 10:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0021_conversion_record'
down_revision = '0020_ledger_balance_fast_path'
branch_labels = None
depends_on = None

COUNTERS = ("conversions", "payout", "pending_conversions", "pending_payout",
            "approved_conversions", "approved_payout", "rejected_conversions", "rejected_payout",
            "awaiting_conversions", "awaiting_payout")
ROLLUP_KEY = ("hour", "link_id", "country", "sub1", "sub2", "sub3", "sub4", "sub5")
ROLLUP_COLUMNS = ("hour", "link_id", "offer_id", "publisher_id", "country",
                  "sub1", "sub2", "sub3", "sub4", "sub5", *COUNTERS)
LOG_COLUMNS = ("received_at", "offer_id", "source", "method", "params", "remote_prefix", "code",
               "http_status", "message", "conversion_id")

POSTGRES_FUNCTION = f"""
CREATE FUNCTION conversion_record(
    new_conversion json, txn_key varchar, txn_reason varchar, txn_description varchar,
    txn_refs json, txn_fingerprint varchar, txn_created_at timestamptz, leg_accounts integer[],
    leg_amounts bigint[], may_go_negative varchar[], rollup json, log_line json)
RETURNS TABLE (outcome varchar, transaction_id bigint) LANGUAGE plpgsql AS $$
DECLARE
    inserted integer;
    posted record;
BEGIN
    INSERT INTO conversions
        SELECT * FROM json_populate_record(NULL::conversions, new_conversion)
        ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    IF inserted = 0 THEN
        RETURN QUERY SELECT 'duplicate'::varchar, NULL::bigint;
        RETURN;
    END IF;
    SELECT p.outcome, p.transaction_id INTO posted
        FROM ledger_post(txn_key, txn_reason, txn_description, txn_refs, txn_fingerprint,
                         txn_created_at, leg_accounts, leg_amounts, may_go_negative) AS p
        LIMIT 1;
    IF posted.outcome IS DISTINCT FROM 'posted' THEN
        RAISE EXCEPTION 'conversion_record: the hold was not posted: %', posted.outcome
            USING ERRCODE = 'CPN01';
    END IF;
    INSERT INTO traffic_hourly ({", ".join(ROLLUP_COLUMNS)})
        SELECT {", ".join(ROLLUP_COLUMNS)}
        FROM json_populate_record(NULL::traffic_hourly, rollup)
        ON CONFLICT ({", ".join(ROLLUP_KEY)}) DO UPDATE SET
        {", ".join(f"{c} = traffic_hourly.{c} + EXCLUDED.{c}" for c in COUNTERS)};
    INSERT INTO postback_log ({", ".join(LOG_COLUMNS)})
        SELECT {", ".join(LOG_COLUMNS)} FROM json_populate_record(NULL::postback_log, log_line);
    RETURN QUERY SELECT posted.outcome, posted.transaction_id;
END $$;
"""


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION conversion_record(json, varchar, varchar, varchar, json, "
                   "varchar, timestamptz, integer[], bigint[], varchar[], json, json)")
