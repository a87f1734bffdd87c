"""Exchange and referral forms: list a referral, buy, withdraw, dispute, resolve, refback."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from payouts.commission_models import MAX_REFBACK_BP
from payouts.forms import AmountForm


class SellForm(AmountForm):
    """The price is the inherited `amount` (major units as typed) and `currency`."""

    referral = SelectField(_l("Referral"), coerce=int,
                           validators=[DataRequired(message=_l("Choose a referral."))])
    note = TextAreaField(_l("Note for buyers"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("List for sale"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.amount.label.text = _l("Price")


class BuyForm(FlaskForm):
    submit = SubmitField(_l("Buy this referral"))
    # Set by the confirmation page's button; a post without it only asks.
    confirmed = HiddenField(default="")


class WithdrawLotForm(FlaskForm):
    submit = SubmitField(_l("Withdraw the lot"))


class DisputeForm(FlaskForm):
    reason = TextAreaField(_l("What is wrong"), validators=[
        DataRequired(message=_l("Say what is wrong.")), Length(max=1000)])
    submit = SubmitField(_l("Open a dispute"))


class ResolveForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[
        SelectChoice("refund",
                     _l("Refund: money back to the buyer, the referral back to the seller")),
        SelectChoice("release", _l("Release: pay the seller"))],
        validators=[DataRequired(message=_l("Choose refund or release."))])
    note = TextAreaField(_l("Note to both sides"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Decide"))


class RefbackForm(FlaskForm):
    refback = IntegerField(_l("Refback, %"), validators=[
        NumberRange(min=0, max=MAX_REFBACK_BP // 100,
                    message=_l("Enter a whole number from 0 to 80."))])
    submit = SubmitField(_l("Save"))
