# ruff: noqa: RUF001 - Russian text is Cyrillic on purpose
"""Russian translations of the strings added by issue 3 (ledger, escrow, deposits).

Merge with: python tools/i18n_fill.py tools/ru_issue-3-ledger.py (after `make messages`).
"""

RU = {
    'Send a JSON object with an integer amount in minor units and a currency, for example '
    '{"amount": 10000, "currency": "USD"}.':
        'Отправьте JSON-объект с целой суммой в минимальных единицах и валютой, например '
        '{"amount": 10000, "currency": "USD"}.',
    "Enter a positive amount.": "Введите положительную сумму.",
    "This currency is not supported.": "Эта валюта не поддерживается.",
    "The deposit cannot change to that state.": "Пополнение не может перейти в это состояние.",
    "Use one of: %(codes)s.": "Используйте одну из: %(codes)s.",
    "Give an integer amount in minor units between %(low)s and %(high)s.":
        "Укажите целую сумму в минимальных единицах от %(low)s до %(high)s.",
    "Only advertisers can deposit.": "Пополнять баланс могут только рекламодатели.",
    "Amount": "Сумма",
    "Enter an amount.": "Введите сумму.",
    "Enter an amount from 1 to 999,999.": "Введите сумму от 1 до 999 999.",
    "Currency": "Валюта",
    "Use at most two decimals.": "Не больше двух знаков после запятой.",
    "Deposit": "Пополнение",
    "Withdraw": "Вывести",
    "The payment provider could not complete the request. Try again later.":
        "Платёжная система не смогла выполнить запрос. Попробуйте позже.",
    "The payment provider of this deposit is not configured.":
        "Платёжная система этого пополнения не настроена.",
    "There is not enough money for this.": "Для этого недостаточно денег.",
    "Not enough money: %(needed)s needed, %(available)s available.":
        "Недостаточно денег: нужно %(needed)s, доступно %(available)s.",
    "This idempotency key was already used for a different transaction.":
        "Этот ключ идемпотентности уже использован для другой транзакции.",
    "This transaction was already reversed.": "Эта транзакция уже сторнирована.",
    "A reversal cannot itself be reversed; post a new transaction instead.":
        "Сторно нельзя сторнировать; проведите новую транзакцию.",
    "There is no deposit left to refund this amount to.":
        "Не осталось пополнений, на которые можно вернуть эту сумму.",
    "You can withdraw at most %(available)s: the rest is held for pending conversions or "
    "already spent.":
        "Можно вывести не больше %(available)s: остальное удерживается под конверсии на проверке "
        "или уже потрачено.",
    "Escrow": "Эскроу",
    "On hold: payouts": "Удержано: выплаты",
    "On hold: network fee": "Удержано: комиссия сети",
    "Available": "Доступно",
    "Payout in flight": "Выплата в пути",
    "Refund in flight": "Возврат в пути",
    "Paid out": "Выплачено",
    "Exchange escrow": "Эскроу биржи",
    "Network revenue": "Доход сети",
    "Gateway clearing": "Клиринг платёжного шлюза",
    "Held for a conversion": "Удержано под конверсию",
    "Conversion approved": "Конверсия подтверждена",
    "Conversion rejected, money returned": "Конверсия отклонена, деньги возвращены",
    "Withdrawal requested": "Запрошен вывод",
    "Refund sent": "Возврат отправлен",
    "Refund failed, money returned": "Возврат не прошёл, деньги возвращены",
    "Correction (reversal)": "Исправление (сторно)",
    "Balance": "Баланс",
    "Deposit to escrow, see what is on hold and spent, withdraw unused money.":
        "Пополняйте эскроу, смотрите, что удержано и потрачено, выводите неиспользованное.",
    "Ledger": "Главная книга",
    "Every account and transaction, and whether the books balance.":
        "Все счета и транзакции и сходятся ли книги.",
    "%(amount)s is in your escrow.": "%(amount)s зачислено на ваш эскроу.",
    "%(amount)s is on its way back to your card.": "%(amount)s возвращается на вашу карту.",
    "balanced": "сходится",
    "violations": "нарушения",
    "Invariants": "Инварианты",
    "%(t)d transactions, %(p)d postings, %(a)d accounts. The same checks run from the command "
    "line: flask --app wsgi ledger check.":
        "Транзакций: %(t)d, проводок: %(p)d, счетов: %(a)d. Те же проверки запускаются из "
        "командной строки: flask --app wsgi ledger check.",
    "Filters": "Фильтры",
    "Account kind": "Вид счёта",
    "All kinds": "Все виды",
    "All currencies": "Все валюты",
    "Owner id": "ID владельца",
    "All reasons": "Все основания",
    "Idempotency key": "Ключ идемпотентности",
    "Idempotency key contains": "Ключ идемпотентности содержит",
    "Accounts": "Счета",
    "Kind": "Вид",
    "Owner": "Владелец",
    "network": "сеть",
    "No accounts match": "Нет подходящих счетов",
    "Change the filters.": "Измените фильтры.",
    "Transactions": "Транзакции",
    "Date": "Дата",
    "Postings": "Проводки",
    "reverses #%(n)d": "сторнирует №%(n)d",
    "No transactions match": "Нет подходящих транзакций",
    "not started": "не начато",
    "awaiting payment": "ожидает оплаты",
    "credited": "зачислено",
    "failed": "не прошло",
    "expired": "истекло",
    "Sandbox": "Песочница",
    "no Stripe keys are configured: deposits are credited at once and no real money moves.":
        "ключи Stripe не настроены: пополнения зачисляются сразу, настоящие деньги не движутся.",
    "On hold": "Удержано",
    "Spent": "Потрачено",
    "Being refunded": "Возвращается",
    "Escrow pays for new conversions. On hold is committed to conversions waiting for your "
    "review; it cannot be withdrawn.":
        "Эскроу оплачивает новые конверсии. Удержанное зарезервировано под конверсии, ждущие "
        "вашей проверки; его нельзя вывести.",
    "Top up your escrow. You will confirm the amount before any money moves.":
        "Пополните эскроу. Вы подтвердите сумму до того, как деньги придут в движение.",
    "Top up your escrow with a card through Stripe Checkout. Your escrow is credited when "
    "Stripe confirms the payment.":
        "Пополните эскроу картой через Stripe Checkout. Деньги зачисляются, когда Stripe "
        "подтвердит платёж.",
    "Continue": "Продолжить",
    "Withdraw unused escrow": "Вывести неиспользованный эскроу",
    "Refunded to the card your deposits came from, newest deposit first. Money on hold for "
    "pending conversions stays put.":
        "Возвращается на карту, с которой вы пополняли, начиная с последнего пополнения. "
        "Деньги, удержанные под конверсии на проверке, остаются на месте.",
    "Deposits": "Пополнения",
    "No deposits yet.": "Пополнений пока нет.",
    "Withdrawals": "Выводы",
    "on its way": "в пути",
    "refunded": "возвращено",
    "failed, returned to escrow": "не прошло, возвращено на эскроу",
    "No withdrawals yet.": "Выводов пока нет.",
    "History": "История",
    "What happened": "Что произошло",
    "Account": "Счёт",
    "Details": "Подробнее",
    "No money has moved yet": "Деньги ещё не двигались",
    "Your deposits, conversions on hold, approvals and withdrawals will be listed here.":
        "Здесь появятся ваши пополнения, удержания под конверсии, подтверждения и выводы.",
    "Deposit %(amount)s?": "Пополнить на %(amount)s?",
    "The money goes to your escrow at once.": "Деньги сразу поступят на ваш эскроу.",
    "You will pay on Stripe's checkout page; your escrow is credited when Stripe confirms the "
    "payment.":
        "Вы оплатите на странице Stripe; эскроу пополнится, когда Stripe подтвердит платёж.",
    "Withdraw %(amount)s?": "Вывести %(amount)s?",
    "This amount leaves your escrow now and is refunded to the card of your deposits. Offers "
    "without enough escrow stop accepting conversions.":
        "Эта сумма сразу уйдёт с эскроу и вернётся на карту ваших пополнений. Офферы без "
        "достаточного эскроу перестанут принимать конверсии.",
    "Yes, deposit": "Да, пополнить",
    "Yes, withdraw": "Да, вывести",
    "Cancel": "Отмена",
    "Deposit of %(amount)s": "Пополнение на %(amount)s",
    "Started": "Начато",
    "Credited": "Зачислено",
    "Paid with": "Способ оплаты",
    "Refunded": "Возвращено",
    "The money is in your escrow.": "Деньги на вашем эскроу.",
    "Stripe has your payment. Your escrow is credited as soon as Stripe's signed confirmation "
    "reaches us, usually within seconds.":
        "Stripe получил ваш платёж. Эскроу пополнится, как только до нас дойдёт подписанное "
        "подтверждение Stripe, обычно за несколько секунд.",
    "We are waiting for the payment to complete. This page shows the result when Stripe "
    "confirms it.":
        "Ждём завершения платежа. Эта страница покажет результат, когда Stripe его подтвердит.",
    "Refresh": "Обновить",
    "Continue to payment": "Перейти к оплате",
    "Back to balance": "Назад к балансу",
    "Transaction %(n)d": "Транзакция %(n)d",
    "Description": "Описание",
    "Reverses": "Сторнирует",
    "Back": "Назад",
    "every transaction sums to zero per currency":
        "каждая транзакция в сумме равна нулю по каждой валюте",
    "every transaction has at least two postings": "в каждой транзакции не меньше двух проводок",
    "all postings sum to zero per currency": "все проводки в сумме равны нулю по каждой валюте",
    "no account but clearing and revenue is negative":
        "ни один счёт, кроме клиринга и дохода, не ушёл в минус",
    "cached balances equal the sum of their postings":
        "сохранённые остатки равны сумме проводок",
    "reversals mirror their originals, once, never a reversal of a reversal":
        "сторно зеркально исходной транзакции, только одно, и не бывает сторно сторно",
    "a deposit is succeeded exactly when its credit is posted":
        "пополнение успешно ровно тогда, когда проведено его зачисление",
    "each deposit's refunded amount matches its refunds":
        "возвращённая сумма каждого пополнения совпадает с его возвратами",
}
