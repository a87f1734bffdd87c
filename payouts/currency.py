"""Supported currencies and their minor units: the one place that knows about exponents.

Amounts are integers in minor units everywhere; `Decimal` appears only at the edges
(parsing what a person typed, formatting for display).
"""

from decimal import Decimal

from flask_babel import format_currency

# ISO 4217 code -> minor-unit exponent (cents, kopecks).
CURRENCIES: dict[str, int] = {"USD": 2, "EUR": 2, "RUB": 2}
DEFAULT_CURRENCY = "USD"
# A single deposit or withdrawal, in major units: keeps typos (and Stripe's own limit) out.
MAX_AMOUNT_MAJOR = 999_999


def is_supported(code: object) -> bool:
    """True for a supported ISO code in any case; anything but a string (a JSON number, list,
    object...) is not one."""
    return isinstance(code, str) and code.upper() in CURRENCIES


def exponent(code: str) -> int:
    return CURRENCIES[code.upper()]


def max_minor(code: str) -> int:
    return MAX_AMOUNT_MAJOR * 10 ** exponent(code)


def to_minor(major: Decimal | str, code: str) -> int:
    """"10000.50" USD -> 1000050; refuses more decimals than the currency has."""
    try:
        value = Decimal(str(major).strip())
        scaled = value.scaleb(exponent(code))
        exact = value.is_finite() and scaled == scaled.to_integral_value()
    except ArithmeticError:  # not a number, an exponent past Decimal's range, a signalling NaN
        raise ValueError(f"not a number: {major!r}") from None
    if not exact:
        raise ValueError(f"{major!r} has more decimals than {code} allows")
    return int(scaled)


def to_major(minor: int, code: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(code))


def format_money(minor: int, code: str) -> str:
    """1000050, "USD" -> "$10,000.50" in the reader's locale (Flask-Babel)."""
    return format_currency(to_major(minor, code), code.upper())
