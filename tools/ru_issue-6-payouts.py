# ruff: noqa: RUF001 - Russian text is Cyrillic on purpose
"""Russian translations of the strings added by issue 6 (payouts, withdrawals, queue health).

Merge with: python tools/i18n_fill.py tools/ru_issue-6-payouts.py (after `make messages`).
"""

RU = {
    # Notifications
    "Payout #%(id)s of %(amount)s was sent to your payout account.":
        "Выплата №%(id)s на сумму %(amount)s отправлена на ваш счёт для выплат.",
    "Payout #%(id)s of %(amount)s failed (%(reason)s); the money is back in your available "
    "balance.":
        "Выплата №%(id)s на сумму %(amount)s не прошла (%(reason)s); деньги вернулись на ваш "
        "доступный баланс.",
    "The ledger check of %(day)s found %(failed)s failing check(s): %(checks)s. Open the Ledger "
    "page for details.":
        "Проверка журнала за %(day)s нашла нарушения (проверок с ошибкой: %(failed)s): "
        "%(checks)s. Подробности — на странице «Журнал».",
    # API and services
    "Send a JSON object with an integer amount in minor units and a currency, for example "
    "{\"amount\": 5000, \"currency\": \"USD\"}.":
        "Отправьте JSON-объект с целой суммой в минимальных единицах и валютой, например "
        "{\"amount\": 5000, \"currency\": \"USD\"}.",
    "Unknown status.": "Неизвестный статус.",
    "Connect a payout account first, in Payout settings.":
        "Сначала подключите счёт для выплат в настройках выплат.",
    "Your payout account cannot receive payouts yet: finish the onboarding at Stripe, in Payout "
    "settings.":
        "Ваш счёт пока не может получать выплаты: завершите регистрацию в Stripe в настройках "
        "выплат.",
    "Only publishers in good standing can connect a payout account.":
        "Подключить счёт для выплат могут только незаблокированные вебмастера.",
    "The network's minimum is %(minimum)s; leave the field empty to use it.":
        "Минимум сети — %(minimum)s; оставьте поле пустым, чтобы использовать его.",
    "%(amount)s is on its way to your payout account.":
        "%(amount)s отправляется на ваш счёт для выплат.",
    "Payout settings saved.": "Настройки выплат сохранены.",
    "Sandbox payout account connected: payouts are recorded without real money.":
        "Тестовый счёт для выплат подключён: выплаты записываются без реальных денег.",
    "Your payout account can receive payouts.": "Ваш счёт может получать выплаты.",
    "Stripe has not enabled payouts on your account yet. Finish the onboarding, or come back "
    "once Stripe has checked your details.":
        "Stripe ещё не включил выплаты на вашем счёте. Завершите регистрацию или вернитесь, "
        "когда Stripe проверит ваши данные.",
    "Minimum payout (whole units of the currency)": "Минимальная выплата (целых единиц валюты)",
    "Enter a whole number from 1 to 999,999.": "Введите целое число от 1 до 999 999.",
    "Pay me automatically every week": "Выплачивать автоматически раз в неделю",
    "Save settings": "Сохранить настройки",
    "The payment provider of this payment is not configured.":
        "Платёжный провайдер этого платежа не настроен.",
    "every payout reserved its money and settled it once, as its status says":
        "каждая выплата зарезервировала свои деньги и закрыта ровно один раз, как указывает её "
        "статус",
    "money in flight and paid out equals the payouts in those states":
        "деньги «в пути» и выплаченные равны суммам выплат в этих статусах",
    "Payout %(old)d is retried as payout %(new)d.":
        "Выплата %(old)d повторена как выплата %(new)d.",
    "Payout %(n)d is queued again.": "Выплата %(n)d снова поставлена в очередь.",
    "Job %(id)s is queued again.": "Задача %(id)s снова поставлена в очередь.",
    "This job is no longer in the failed registry.": "Этой задачи уже нет среди упавших.",
    "Only a failed or unfinished payout can be retried.":
        "Повторить можно только неудавшуюся или незавершённую выплату.",
    "Payout requested": "Запрошена выплата",
    "Payout sent": "Выплата отправлена",
    "Payout failed, money returned": "Выплата не прошла, деньги возвращены",
    "your account is blocked": "ваш аккаунт заблокирован",
    "the network's payout balance is too low; try again later":
        "на балансе сети для выплат недостаточно средств; попробуйте позже",
    "the payout account cannot receive transfers": "счёт для выплат не может принимать переводы",
    "the payout account cannot receive transfers yet; finish the onboarding at Stripe":
        "счёт для выплат пока не может принимать переводы; завершите регистрацию в Stripe",
    "the payout account no longer exists": "счёта для выплат больше не существует",
    # Navigation
    "Earnings": "Заработок",
    "Pending, available and paid earnings; withdraw to your payout account.":
        "Ожидающий, доступный и выплаченный заработок; вывод на ваш счёт для выплат.",
    "Payouts": "Выплаты",
    "Payouts by status, failures with reasons and retries, totals per day.":
        "Выплаты по статусам, неудачи с причинами и повторы, итоги по дням.",
    "Queues": "Очереди",
    "Queued, running and failed jobs per queue; requeue failed ones.":
        "Ожидающие, выполняемые и упавшие задачи по очередям; повторный запуск упавших.",
    # Withdrawal refusals
    "This is below the minimum payout.": "Это меньше минимальной выплаты.",
    "This is more than your available balance.": "Это больше вашего доступного баланса.",
    "Your account is blocked, so payouts are suspended. Contact the network operator.":
        "Ваш аккаунт заблокирован, поэтому выплаты приостановлены. Свяжитесь с оператором сети.",
    "The payout cannot change to that state.": "Выплата не может перейти в это состояние.",
    "Only publishers have earnings to withdraw.": "Выводить заработок могут только вебмастера.",
    "The minimum payout is %(minimum)s.": "Минимальная выплата — %(minimum)s.",
    "You can withdraw at most %(available)s.": "Вы можете вывести не более %(available)s.",
    "Only a failed payout can be retried.": "Повторить можно только неудавшуюся выплату.",
    # Queue health
    "Job %(id)s": "Задача %(id)s",
    "Queue": "Очередь",
    "Call": "Вызов",
    "Enqueued": "В очереди с",
    "Ended": "Завершена",
    "Retries left": "Осталось повторов",
    "Error": "Ошибка",
    "Requeue": "Запустить снова",
    "Queue health": "Состояние очередей",
    "Queued": "В очереди",
    "Scheduled": "Запланировано",
    "Deferred": "Отложено",
    "Finished": "Выполнено",
    "Scheduled: delayed jobs and retries waiting for their time (transient payment errors retry "
    "with backoff).":
        "Запланировано: отложенные задачи и повторы, ожидающие своего времени (временные ошибки "
        "платежей повторяются с нарастающей паузой).",
    "Workers": "Обработчики",
    "Worker": "Обработчик",
    "State": "Состояние",
    "Last heartbeat": "Последний сигнал",
    "No worker is running: nothing is processed. Start one with flask --app wsgi worker.":
        "Ни один обработчик не запущен: ничего не выполняется. Запустите его командой "
        "flask --app wsgi worker.",
    "Failed jobs": "Упавшие задачи",
    "Job": "Задача",
    "Failed at": "Упала",
    "No failed jobs.": "Упавших задач нет.",
    # Operator's payouts page
    "Each payout is one transfer, made by the payout job on the payouts queue; the reconciler "
    "settles or retries unfinished ones every 10 minutes.":
        "Каждая выплата — один перевод, который делает задача выплаты в очереди payouts; "
        "сверка каждые 10 минут закрывает или повторяет незавершённые.",
    "All": "Все",
    "needs review": "требует проверки",
    "Requested": "Запрошена",
    "Transfer or reason": "Перевод или причина",
    "%(n)d attempts": "попыток: %(n)d",
    "Retry this payout?": "Повторить эту выплату?",
    "Retry": "Повторить",
    "No payouts match": "Нет подходящих выплат",
    "Change the filter.": "Измените фильтр.",
    "Totals per day (last 14 days)": "Итоги по дням (последние 14 дней)",
    "Day": "День",
    "Paid": "Выплачено",
    "Failed": "Не прошло",
    "Requested: by the day of the request. Paid and failed: by the day the payout settled.":
        "Запрошено — по дню запроса. Выплачено и не прошло — по дню завершения выплаты.",
    "No payouts in the last 14 days.": "За последние 14 дней выплат не было.",
    # Statuses and the publisher's pages
    "no Stripe keys are configured: payouts are recorded here and no real money moves.":
        "ключи Stripe не настроены: выплаты только записываются, реальные деньги не движутся.",
    "requested": "запрошена",
    "sending": "отправляется",
    "sent": "отправлена",
    "paid": "выплачена",
    "under review": "на проверке",
    "Withdraw %(amount)s to your payout account?": "Вывести %(amount)s на ваш счёт для выплат?",
    "This amount leaves your available balance now and is transferred to your connected payout "
    "account. You can follow it on the payout's page.":
        "Эта сумма сразу уходит с доступного баланса и переводится на подключённый счёт для "
        "выплат. Следить за ней можно на странице выплаты.",
    "Pending": "В ожидании",
    "In flight": "В пути",
    "Minimum payout: %(minimum)s.": "Минимальная выплата: %(minimum)s.",
    "This is the network's default.": "Это значение сети по умолчанию.",
    "Your own setting; the network's default is %(default)s.":
        "Ваша собственная настройка; по умолчанию в сети — %(default)s.",
    "Available earnings go to your connected payout account. You will confirm the amount before "
    "any money moves.":
        "Доступный заработок переводится на подключённый счёт для выплат. Вы подтвердите сумму до "
        "того, как деньги придут в движение.",
    "Connect a payout account before you withdraw.":
        "Перед выводом подключите счёт для выплат.",
    "Payout settings": "Настройки выплат",
    "Payout account": "Счёт для выплат",
    "ready": "готов",
    "onboarding not finished": "регистрация не завершена",
    "not connected": "не подключён",
    "Automatic weekly payouts are on.": "Автоматические еженедельные выплаты включены.",
    "Automatic weekly payouts are off.": "Автоматические еженедельные выплаты выключены.",
    "Earned on conversions the advertiser has not approved yet. The money stays in the "
    "advertiser's escrow hold until then; it becomes available when the conversion is approved "
    "(by the advertiser, or at the end of the offer's hold period).":
        "Заработано на конверсиях, которые рекламодатель ещё не подтвердил. До тех пор деньги "
        "остаются в холде рекламодателя; они станут доступны, когда конверсию подтвердят "
        "(рекламодатель или по окончании холда оффера).",
    "Conversion": "Конверсия",
    "Ledger transaction": "Проводка в журнале",
    "Available from": "Доступно с",
    "after the advertiser's review": "после проверки рекламодателем",
    "Nothing pending.": "Ничего не ожидает.",
    "Transfer": "Перевод",
    "automatic": "автоматически",
    "No payouts yet.": "Выплат пока нет.",
    "No earnings yet": "Заработка пока нет",
    "Approved conversions, commissions from your referrals and your payouts will be listed here.":
        "Здесь появятся подтверждённые конверсии, комиссии с ваших рефералов и ваши выплаты.",
    "Payout %(n)d": "Выплата %(n)d",
    "automatic weekly payout": "автоматическая еженедельная выплата",
    "Sent": "Отправлена",
    "Why it failed": "Почему не прошла",
    "The money is back in your available balance.": "Деньги вернулись на ваш доступный баланс.",
    "Attempts": "Попытки",
    "Last error": "Последняя ошибка",
    "Failure code": "Код ошибки",
    "Retry of": "Повтор выплаты",
    "The money is in flight: it has left your available balance and is being transferred. This "
    "page shows the latest state; reload it to follow the payout.":
        "Деньги в пути: они списаны с доступного баланса и переводятся. Страница показывает "
        "последнее состояние; обновите её, чтобы следить за выплатой.",
    "Ledger transactions": "Проводки в журнале",
    "Payouts go to %(account)s.": "Выплаты поступают на %(account)s.",
    "Stripe has not enabled payouts on %(account)s yet.":
        "Stripe ещё не включил выплаты на %(account)s.",
    "Payouts are sent with Stripe Connect to an Express account in your name: Stripe asks for "
    "your identity and bank details and pays your bank.":
        "Выплаты отправляются через Stripe Connect на Express-аккаунт на ваше имя: Stripe "
        "запрашивает ваши личные и банковские данные и переводит деньги в ваш банк.",
    "In the sandbox a payout account is connected at once and payouts are only recorded.":
        "В тестовом режиме счёт для выплат подключается сразу, а выплаты только записываются.",
    "Continue onboarding at Stripe": "Продолжить регистрацию в Stripe",
    "Connect a payout account": "Подключить счёт для выплат",
    "Minimum and schedule": "Минимум и расписание",
    "The network's minimum payout is %(minimum)s (or the same amount in euros or roubles). You "
    "may set a higher minimum of your own.":
        "Минимальная выплата в сети — %(minimum)s (или столько же в евро или рублях). Вы можете "
        "задать свой, более высокий минимум.",
    "Leave empty to use the network's minimum.":
        "Оставьте пустым, чтобы использовать минимум сети.",
    "Once a week your whole available balance is paid out, if it reaches your minimum.":
        "Раз в неделю весь доступный баланс выплачивается, если он достигает вашего минимума.",
    "Payout": "Выплата",
}
