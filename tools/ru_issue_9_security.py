"""Russian translations of issue 9's security strings (merged into the .po by the lead)."""

RU = {
    "Too many requests. Try again later.": "Слишком много запросов. Попробуйте позже.",
}
