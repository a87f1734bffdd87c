"""Offer, creative, access and moderation forms (Flask-WTF: each carries a CSRF token).

Amounts are typed in major units ("12.50") and percents as "7.5"; `to_offer_data` turns them
into minor units and basis points, reporting a bad number next to its field.
"""

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import FieldList
from wtforms.validators import URL, DataRequired, Email, Length, NumberRange, Optional

from offers.models import (
    BASIS_POINTS,
    CAP_METRICS,
    CAP_PERIODS,
    CAP_SCOPES,
    CATEGORIES,
    PAYOUT_TYPES,
    REWARD_MODELS,
    VISIBILITIES,
)
from offers.services import CapData, GoalData, OfferData
from payouts.currency import CURRENCIES, to_major, to_minor

GOAL_ROWS = 4


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]
CAP_ROWS = 3


class GoalForm(Form):
    code = StringField(_l("Code"), validators=[Optional(), Length(max=40)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    payout_type = SelectField(_l("Pays"), choices=_choices(PAYOUT_TYPES), validate_choice=False)
    payout = StringField(_l("Payout"), validators=[Optional(), Length(max=20)],
                         description=_l("An amount, or a percent of the sale."))
    requires_goal = StringField(_l("After goal"), validators=[Optional(), Length(max=40)])
    min_amount = StringField(_l("Minimum sale"), validators=[Optional(), Length(max=20)])
    once_per_click = BooleanField(_l("Once per click"))


class CapForm(Form):
    # Choices are checked by the service (a row left empty has none); see _validate_caps.
    scope = SelectField(_l("For"), choices=_choices(CAP_SCOPES), validate_choice=False)
    period = SelectField(_l("Period"), choices=_choices(CAP_PERIODS),
                         validate_choice=False)
    metric = SelectField(_l("Limit on"), choices=_choices(CAP_METRICS),
                         validate_choice=False)
    limit = StringField(_l("Limit"), validators=[Optional(), Length(max=20)])


class OfferForm(FlaskForm):
    name = StringField(_l("Offer name"), validators=[DataRequired(), Length(max=120)])
    category = SelectField(_l("Category"), choices=_choices(CATEGORIES))
    description_md = TextAreaField(_l("Description"), validators=[Length(max=20000)],
                                   description=_l("Markdown: **bold**, lists, links."))
    landing_url = StringField(
        _l("Landing page"), validators=[DataRequired(), Length(max=1000)],
        description=_l("Macros: {click_id}, {sub1}…{sub5}, {publisher_id}, {offer_id}."))
    currency = SelectField(_l("Currency"), choices=[SelectChoice(c) for c in CURRENCIES])
    reference_amount = StringField(
        _l("Typical sale amount"), validators=[Optional(), Length(max=20)],
        description=_l("Needed for percent goals: it prices them for escrow and sorting."))
    hold_days = IntegerField(_l("Hold period, days"), default=14,
                             validators=[NumberRange(min=0, max=365)])
    attribution_window_days = IntegerField(_l("Attribution window, days"), default=30,
                                           validators=[NumberRange(min=1, max=365)])
    reward_model = SelectField(_l("Reward model"), choices=_choices(REWARD_MODELS))
    customer_bonus = StringField(_l("Customer bonus"), validators=[Optional(), Length(max=300)],
                                 description=_l("Two-sided: what the new customer gets."))
    promo_discount = StringField(_l("Promo code discount, %"),
                                 validators=[Optional(), Length(max=8)])
    allowed_countries = StringField(
        _l("Allowed countries"), validators=[Optional(), Length(max=800)],
        description=_l("Two-letter codes separated by spaces, e.g. RU KZ. Empty: everywhere."))
    fallback_url = StringField(_l("Fallback page"), validators=[Optional(), URL(),
                                                                Length(max=1000)],
                               description=_l("Visitors from other countries go here."))
    traffic_sources = TextAreaField(_l("Allowed traffic sources and notes"),
                                    validators=[Length(max=5000)])
    visibility = SelectField(_l("Visibility"), choices=_choices(VISIBILITIES))
    goals = FieldList(FormField(GoalForm), min_entries=GOAL_ROWS, max_entries=10)
    caps = FieldList(FormField(CapForm), min_entries=CAP_ROWS, max_entries=6)
    submit = SubmitField(_l("Send to moderation"))
    save_draft = SubmitField(_l("Save as draft"))
    save = SubmitField(_l("Save"))

    def fill_from(self, offer) -> None:
        """Show an existing offer's amounts in major units and percents."""
        self.reference_amount.data = _major(offer.reference_amount, offer.currency) \
            if offer.reference_amount else ""
        self.promo_discount.data = (str(Decimal(offer.promo_discount_bp) / 100)
                                    if offer.promo_discount_bp else "")
        self.allowed_countries.data = offer.allowed_countries
        for entry, goal in zip(self.goals.entries, offer.goals, strict=False):
            entry.form.code.data, entry.form.name.data = goal.code, goal.name
            entry.form.payout_type.data = goal.payout_type
            entry.form.payout.data = (_major(goal.payout, offer.currency)
                                      if goal.payout_type == "fixed"
                                      else str(Decimal(goal.payout) / 100))
            entry.form.requires_goal.data = goal.requires_goal
            entry.form.min_amount.data = _major(goal.min_amount, offer.currency) \
                if goal.min_amount else ""
            entry.form.once_per_click.data = goal.once_per_click
        for entry, cap in zip(self.caps.entries, offer.caps, strict=False):
            entry.form.scope.data, entry.form.period.data = cap.scope, cap.period
            entry.form.metric.data = cap.metric
            entry.form.limit.data = (str(cap.cap_limit) if cap.metric == "conversions"
                                     else _major(cap.cap_limit, offer.currency))

    def to_offer_data(self) -> tuple[OfferData | None, dict]:
        """The typed-in offer, or None and {field: [errors]} for numbers that do not parse."""
        errors: dict[str, list] = {}
        currency = self.currency.data

        def amount(text: str, field: str) -> int:
            try:
                return to_minor(text, currency)
            except ValueError:
                errors.setdefault(field, []).append(_l("Enter an amount like 12.50."))
                return 0

        def percent(text: str, field: str) -> int:
            try:
                value = Decimal(text.strip().rstrip("%").replace(",", "."))
                if value != value.quantize(Decimal("0.01")):
                    raise InvalidOperation
                return int(value * 100)
            except (InvalidOperation, ValueError):
                errors.setdefault(field, []).append(_l("Enter a percent like 7.5."))
                return 0

        goals = []
        for entry in self.goals.entries:
            g = entry.form
            if not (g.code.data or "").strip():
                continue
            raw = (g.payout.data or "").replace(",", ".")
            value = amount(raw, "goals") if g.payout_type.data == "fixed" else percent(raw,
                                                                                       "goals")
            minimum = amount(g.min_amount.data, "goals") if (g.min_amount.data or "").strip() \
                else 0
            goals.append(GoalData(g.code.data.strip().lower(), g.payout_type.data, value,
                                  g.name.data or "", bool(g.once_per_click.data),
                                  (g.requires_goal.data or "").strip().lower(), minimum))
        caps = []
        for entry in self.caps.entries:
            c = entry.form
            if not (c.limit.data or "").strip():
                continue
            limit = (amount(c.limit.data, "caps") if c.metric.data == "payout"
                     else _count(c.limit.data, errors))
            caps.append(CapData(c.scope.data, c.period.data, c.metric.data, limit))
        reference = amount(self.reference_amount.data, "reference_amount") \
            if (self.reference_amount.data or "").strip() else 0
        discount = percent(self.promo_discount.data, "promo_discount") \
            if (self.promo_discount.data or "").strip() else None
        if discount is not None and not 0 < discount < BASIS_POINTS:
            errors.setdefault("promo_discount", []).append(_l("Between 0 and 100."))
        if errors:
            return None, errors
        return OfferData(
            name=self.name.data, category=self.category.data,
            description_md=self.description_md.data or "", landing_url=self.landing_url.data,
            currency=currency, goals=tuple(goals), caps=tuple(caps),
            fallback_url=self.fallback_url.data or "", reference_amount=reference,
            hold_days=self.hold_days.data,
            attribution_window_days=self.attribution_window_days.data,
            reward_model=self.reward_model.data, customer_bonus=self.customer_bonus.data or "",
            promo_discount_bp=discount,
            allowed_countries=tuple((self.allowed_countries.data or "").upper()
                                    .replace(",", " ").split()),
            traffic_sources=self.traffic_sources.data or "", visibility=self.visibility.data,
        ), {}


def _major(minor: int, currency: str) -> str:
    return str(to_major(minor, currency))


def _count(text: str, errors: dict) -> int:
    try:
        return int(text.strip())
    except ValueError:
        errors.setdefault("caps", []).append(_l("A conversion cap is a whole number."))
        return 0


class BannerForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    file = FileField(_l("Image (PNG, JPEG, GIF or WebP)"), validators=[FileRequired()])
    upload = SubmitField(_l("Upload banner"))


class TextAdForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    headline = StringField(_l("Headline"), validators=[DataRequired(), Length(max=120)])
    body = TextAreaField(_l("Text"), validators=[Optional(), Length(max=500)])
    add = SubmitField(_l("Add text ad"))


class InviteForm(FlaskForm):
    email = StringField(_l("Publisher's email"), validators=[DataRequired(), Email(),
                                                             Length(max=254)])
    invite = SubmitField(_l("Invite"))


class StatusForm(FlaskForm):
    target = StringField(validators=[DataRequired(), Length(max=20)])


class ModerationForm(FlaskForm):
    reason = StringField(_l("Reason (shown to the advertiser)"),
                         validators=[Optional(), Length(max=500)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))
