# ruff: noqa: RUF001 - Cyrillic letters that look Latin are the point of a Russian dictionary
"""Russian for the strings of issue 10's UX work (merged by tools/i18n_fill.py)."""

RU = {
    "No such job.": "Такой задачи нет.",
    "Queued": "В очереди",
    "Running": "Выполняется",
    "Done": "Готово",
    "Failed": "Ошибка",
    ("%(num)d conversion approved.", "%(num)d conversions approved."): (
        "%(num)d конверсия одобрена.", "%(num)d конверсии одобрены.",
        "%(num)d конверсий одобрено."),
    ("%(num)d conversion rejected.", "%(num)d conversions rejected."): (
        "%(num)d конверсия отклонена.", "%(num)d конверсии отклонены.",
        "%(num)d конверсий отклонено."),
    ("%(num)d skipped: %(reason)s", "%(num)d skipped: %(reason)s"): (
        "%(num)d пропущена: %(reason)s", "%(num)d пропущены: %(reason)s",
        "%(num)d пропущено: %(reason)s"),
    "Bulk review of conversions": "Массовая проверка конверсий",
    "Conversions export": "Выгрузка конверсий",
    "None of these conversions can be decided: they are decided already.":
        "Ни одну из этих конверсий нельзя решить: решение по ним уже принято.",
    "Give a reason to reject; the publisher sees it.":
        "Укажите причину отклонения; вебмастер её увидит.",
    "Statistics export": "Выгрузка статистики",
    "Started %(when)s.": "Запущено %(when)s.",
    "All your exports and jobs": "Все ваши выгрузки и задачи",
    "Progress": "Ход выполнения",
    "Working: %(done)s of %(total)s.": "Выполняется: %(done)s из %(total)s.",
    "Waiting to start…": "Ожидает запуска…",
    "Done: %(done)s of %(total)s.": "Готово: %(done)s из %(total)s.",
    "It failed. Nothing more will happen; start it again, and tell us if it fails again.":
        "Задача завершилась ошибкой. Больше ничего не произойдёт; запустите её снова и "
        "сообщите нам, если ошибка повторится.",
    "Refresh to see the progress": "Обновите страницу, чтобы увидеть ход выполнения",
    "Download %(name)s": "Скачать %(name)s",
    "Exports and jobs": "Выгрузки и задачи",
    "Large exports and bulk decisions run in the background. Files are kept for %(days)s days.":
        "Большие выгрузки и массовые решения выполняются в фоне. Файлы хранятся %(days)s дн.",
    "No exports yet": "Выгрузок пока нет",
    "Export a table from your statistics or conversions page; a large one runs here with a "
    "progress bar.":
        "Выгрузите таблицу со страницы статистики или конверсий; большая выгрузка выполняется "
        "здесь, с индикатором хода.",
    "Go to your dashboard": "Перейти в кабинет",
    ("Approve %(num)d conversion?", "Approve %(num)d conversions?"): (
        "Одобрить %(num)d конверсию?", "Одобрить %(num)d конверсии?",
        "Одобрить %(num)d конверсий?"),
    "Each approved conversion pays its publisher from your hold, and the network's fee is "
    "charged:":
        "По каждой одобренной конверсии вебмастеру платится выплата из вашего резерва и "
        "списывается комиссия сети:",
    ("Reject %(num)d conversion?", "Reject %(num)d conversions?"): (
        "Отклонить %(num)d конверсию?", "Отклонить %(num)d конверсии?",
        "Отклонить %(num)d конверсий?"),
    "Each rejected conversion's payout and fee go back from your hold to your escrow:":
        "Выплата и комиссия каждой отклонённой конверсии возвращаются из резерва на ваш "
        "депозит:",
    "payouts and fees": "выплаты и комиссии",
    "Reason the publishers will see:": "Причина, которую увидят вебмастера:",
    "Only the first %(num)s matching conversions are included; narrow the filter for the rest.":
        "Включены только первые %(num)s подходящих конверсий; для остальных сузьте фильтр.",
    "It runs in the background; you will see its progress and a summary. Conversions decided "
    "meanwhile are skipped.":
        "Это выполняется в фоне; вы увидите ход выполнения и итог. Конверсии, решённые за это "
        "время, пропускаются.",
    ("Yes, approve %(num)d conversion", "Yes, approve %(num)d conversions"): (
        "Да, одобрить %(num)d конверсию", "Да, одобрить %(num)d конверсии",
        "Да, одобрить %(num)d конверсий"),
    ("Yes, reject %(num)d conversion", "Yes, reject %(num)d conversions"): (
        "Да, отклонить %(num)d конверсию", "Да, отклонить %(num)d конверсии",
        "Да, отклонить %(num)d конверсий"),
    ("%(num)s conversion matches.", "%(num)s conversions match."): (
        "Подходит %(num)s конверсия.", "Подходят %(num)s конверсии.",
        "Подходит %(num)s конверсий."),
    "Which conversions": "Какие конверсии",
    "The ticked ones": "Отмеченные",
    ("All %(num)s matching the filter", "All %(num)s matching the filter"): (
        "Все %(num)s, подходящие под фильтр", "Все %(num)s, подходящие под фильтр",
        "Все %(num)s, подходящие под фильтр"),
    "No conversions match": "Подходящих конверсий нет",
    "Nothing matches these filters. Widen the dates or clear the filters.":
        "Под эти фильтры ничего не подходит. Расширьте даты или сбросьте фильтры.",
    "Clear the filters": "Сбросить фильтры",
    "Conversions appear here when your postbacks, pixels or promo-code calls report them. Set "
    "up tracking on your offer's integration page, then send a test postback.":
        "Конверсии появляются здесь, когда о них сообщают ваши постбэки, пиксели или вызовы по "
        "промокодам. Настройте отслеживание на странице интеграции оффера и отправьте "
        "тестовый постбэк.",
    "Go to your offers": "К вашим офферам",
    "Buy %(referral)s for %(price)s?": "Купить %(referral)s за %(price)s?",
    "%(price)s leaves your available balance (%(available)s) now and waits in the exchange's "
    "escrow for %(days)s days. Until then you can open a dispute; after that the seller is "
    "paid.":
        "%(price)s сейчас спишется с вашего доступного баланса (%(available)s) и %(days)s дн. "
        "пролежит на гарантийном счёте биржи. До тех пор можно открыть спор; после продавец "
        "получит оплату.",
    "Yes, buy for %(price)s": "Да, купить за %(price)s",
    "Menu": "Меню",
    "Create your first offer": "Создать первый оффер",
    "Score over time": "Балл во времени",
    "The network score per day, last %(days)s days": "Балл по сети по дням, последние %(days)s дн.",
    "The same numbers as a table": "Те же числа таблицей",
    "Your links": "Ваши ссылки",
}
