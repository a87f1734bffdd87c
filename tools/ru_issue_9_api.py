# ruff: noqa: RUF001 - Cyrillic letters that look Latin are the point of a Russian dictionary
"""Russian translations of the strings added by issue 9 (the API): merge with
`python tools/i18n_fill.py tools/ru_issue_9_api.py`."""

RU = {
    "A list of 1 to %(n)s conversion ids.": "Список из 1–%(n)s id конверсий.",
    "A number is out of range.": "Число вне допустимого диапазона.",
    "A whole number of major units, or null.": "Целое число в основных единицах или null.",
    "A whole number of percent.": "Целое число процентов.",
    "An ISO 8601 date or date-time, like 2026-01-31 or 2026-01-31T12:00:00Z.":
        "Дата или дата со временем в ISO 8601, например 2026-01-31 или 2026-01-31T12:00:00Z.",
    "Must be an integer.": "Должно быть целым числом.",
    "Must be between %(low)s and %(high)s.": "Должно быть от %(low)s до %(high)s.",
    "Must not be before %(name)s.": "Не может быть раньше %(name)s.",
    "Not a cursor this list gave.": "Этот курсор выдан не этим списком.",
    "Required: a string.": "Обязательно: строка.",
    "Required: the publisher's email.": "Обязательно: email вебмастера.",
    "Say what is wrong (at most 1000 characters).": "Опишите, что не так (не более 1000 символов).",
    "Send a JSON object (Content-Type: application/json).":
        "Отправьте JSON-объект (Content-Type: application/json).",
    "Send a JSON object with an integer amount in minor units and a currency.":
        "Отправьте JSON-объект с целой суммой в минимальных единицах и валютой.",
    "true or false.": "true или false.",
}
