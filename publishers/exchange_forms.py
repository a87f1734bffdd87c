"""Exchange and referral forms: list a referral, buy, withdraw, dispute, resolve, refback."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from payouts import currency as currencies
from payouts.commission_models import MAX_REFBACK_BP


class SellForm(FlaskForm):
    referral = SelectField(_l("Referral"), coerce=int,
                           validators=[DataRequired(message=_l("Choose a referral."))])
    price = DecimalField(_l("Price"), places=None,
                         validators=[DataRequired(message=_l("Enter a price.")),
                                     NumberRange(min=0, max=currencies.MAX_AMOUNT_MAJOR)])
    currency = SelectField(_l("Currency"), choices=list(currencies.CURRENCIES))
    note = TextAreaField(_l("Note for buyers"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("List for sale"))

    def validate_price(self, field):
        if field.data is None or self.currency.data not in currencies.CURRENCIES:
            return
        try:
            currencies.to_minor(field.data, self.currency.data)
        except ValueError:
            raise ValidationError(_l("Use at most two decimals.")) from None

    @property
    def minor_price(self) -> int:
        return currencies.to_minor(self.price.data, self.currency.data)


class BuyForm(FlaskForm):
    submit = SubmitField(_l("Buy this referral"))


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
