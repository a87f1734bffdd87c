"""offers: a change to a goal or a cap touches its offer's row (the postback's offer cache)

On PostgreSQL every UPDATE of a row gives it a new `xmin`, so the offer row's `xmin` is a
version of the offer itself. offers.offer_cache compares it to keep an offer, with its goals and
caps, loaded across postbacks; these triggers make a goal or cap change move it too. SQLite has
no xmin and the cache is not used there.

Revision ID: 0019_offer_version_touch
Revises: 0018_payout_reversals
Create Date: 2026-11-22 22:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0019_offer_version_touch'
down_revision = '0018_payout_reversals'
branch_labels = None
depends_on = None

TABLES = ('offer_goals', 'offer_caps')

POSTGRES_FUNCTION = """
CREATE FUNCTION offer_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE offers SET updated_at = updated_at WHERE id = OLD.offer_id;
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.offer_id IS DISTINCT FROM OLD.offer_id)
    THEN
        UPDATE offers SET updated_at = updated_at WHERE id = NEW.offer_id;
    END IF;
    RETURN NULL;
END;
$$;
"""


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(POSTGRES_FUNCTION)
    for table in TABLES:
        op.execute(f"CREATE TRIGGER {table}_touch_offer AFTER INSERT OR UPDATE OR DELETE "
                   f"ON {table} FOR EACH ROW EXECUTE FUNCTION offer_touch()")


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_touch_offer ON {table}")
    op.execute("DROP FUNCTION IF EXISTS offer_touch()")
