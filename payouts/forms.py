"""Money forms: an amount in major units (as people type it) and a currency, then a
confirmation; a publisher's payout settings."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, HiddenField, IntegerField, SelectField, SubmitField
from wtforms.validators import (
    DataRequired,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from payouts import currency as currencies
from payouts import request_keys

AMOUNT_RANGE = _l("Enter an amount from 1 to 999,999.")


def finite(form, field):
    """Stop at NaN and infinities (DecimalField accepts "NaN", "sNaN", "Infinity"): comparing a
    signalling NaN, as NumberRange does next, raises instead of failing."""
    if isinstance(field.data, Decimal) and not field.data.is_finite():
        raise StopValidation(AMOUNT_RANGE)


class AmountForm(FlaskForm):
    """Amount and currency; `confirmed` is set by the confirmation page's button."""

    amount = DecimalField(_l("Amount"), places=None,
                          validators=[DataRequired(message=_l("Enter an amount.")), finite,
                                      NumberRange(min=1, max=currencies.MAX_AMOUNT_MAJOR,
                                                  message=AMOUNT_RANGE)])
    currency = SelectField(_l("Currency"), choices=list(currencies.CURRENCIES))
    confirmed = HiddenField(default="")

    def validate_amount(self, field):
        if field.data is None or self.currency.data not in currencies.CURRENCIES:
            return
        try:
            currencies.to_minor(field.data, self.currency.data)
        except ValueError:
            raise ValidationError(_l("Use at most two decimals.")) from None

    @property
    def minor_amount(self) -> int:
        return currencies.to_minor(self.amount.data, self.currency.data)


class DepositForm(AmountForm):
    submit = SubmitField(_l("Deposit"))


class ConfirmedOnceForm(AmountForm):
    """An amount whose confirmation page carries a one-time token, the request key of what it
    confirms: the same confirmation sent twice moves the money once."""

    request_token = HiddenField(default="", validators=[
        Optional(), Regexp(request_keys.CONFIRMATION_RE,
                           message=_l("Confirm the amount again."))])


class WithdrawForm(ConfirmedOnceForm):
    submit = SubmitField(_l("Withdraw"))


class TopUpForm(AmountForm):
    """A publisher's top-up of their available balance (to buy lots on the exchange with)."""

    submit = SubmitField(_l("Top up"))


class PayoutRequestForm(ConfirmedOnceForm):
    """A publisher's withdrawal of available earnings."""

    submit = SubmitField(_l("Withdraw"))


class PayoutSettingsForm(FlaskForm):
    minimum_major = IntegerField(
        _l("Minimum payout (whole units of the currency)"),
        validators=[Optional(), NumberRange(min=1, max=currencies.MAX_AMOUNT_MAJOR,
                                            message=_l("Enter a whole number from 1 to "
                                                       "999,999."))])
    automatic = BooleanField(_l("Pay me automatically every week"))
    submit = SubmitField(_l("Save settings"))
