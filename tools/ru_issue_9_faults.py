"""Russian translations for the issue-9-faults branch (merged by tools/i18n_fill.py)."""

RU = {
    "The service is briefly unavailable. Nothing was changed; please try again.":
        "Сервис ненадолго недоступен. Ничего не изменилось; попробуйте ещё раз.",
}
