"""Conversion review, fraud queue, test postback and outgoing postback forms (each with CSRF)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from payouts.currency import to_minor


class DecisionForm(FlaskForm):
    """Approve or reject one conversion, or the ticked ones in bulk."""

    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)],
                         description=_l("Required to reject; the publisher sees it."))
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))
    # Set by the bulk confirmation page's button; a decision without it only asks.
    confirmed = HiddenField(default="")

    @property
    def decision(self) -> str:
        return "approve" if self.approve.data else "reject"


class FraudDecisionForm(DecisionForm):
    block = SubmitField(_l("Block the publisher"))

    @property
    def decision(self) -> str:
        return "block" if self.block.data else super().decision


class TestPostbackForm(FlaskForm):
    click_id = StringField(_l("Click id"), validators=[DataRequired(), Length(max=40)],
                           description=_l("A click of this offer; the newest is filled in."))
    goal = SelectField(_l("Goal"), validate_choice=False)
    txid = StringField(_l("Transaction id"), validators=[DataRequired(), Length(max=100)],
                       default="TEST-1")
    amount = StringField(_l("Sale amount"), validators=[Optional(), Length(max=20)],
                         description=_l("For percent goals, e.g. 49.90."))
    send = SubmitField(_l("Send test postback"))

    def amount_minor(self, currency: str) -> int | None:
        """The typed amount in minor units; None if empty; ValueError if it does not parse."""
        text = (self.amount.data or "").strip().replace(",", ".")
        return to_minor(text, currency) if text else None


class PublisherPostbackForm(FlaskForm):
    url_template = StringField(
        _l("Postback URL"), validators=[Optional(), Length(max=1000)],
        description=_l("We call it on each event. Macros: {click_id}, {sub1}…{sub5}, {payout}, "
                       "{currency}, {status}, {conversion_id}, {offer_id}, {goal}, {event}. "
                       "Empty: off."))
    on_created = BooleanField(_l("When a conversion is recorded"), default=True)
    on_approved = BooleanField(_l("When it is approved"), default=True)
    on_rejected = BooleanField(_l("When it is rejected"))
    save = SubmitField(_l("Save"))
