# ruff: noqa: RUF001 - Russian text: Cyrillic letters look like Latin ones
"""Russian translations for issue 5 (conversions): `python tools/i18n_fill.py` merges them.
Plural messages are keyed by their (singular, plural) tuple, valued by the three Russian forms."""

RU = {
    "A percent goal is paid from the sale amount: send amount.":
        "Процентная цель оплачивается от суммы продажи: передайте amount.",
    "From 1 to %(n)d characters.": "От 1 до %(n)d символов.",
    'Your offer "%(name)s" is paused: the escrow does not cover its conversions. Top up the '
    'escrow; conversions waiting for funds are paid first, oldest first.':
        "Ваш оффер «%(name)s» приостановлен: эскроу не покрывает его конверсии. Пополните "
        "эскроу — конверсии, ожидающие средств, оплачиваются первыми, начиная с самых старых.",
    "%(count)s conversions that waited for funds are now on hold from your escrow.":
        "Конверсии, ожидавшие средств (%(count)s), теперь обеспечены из вашего эскроу.",
    'Your offer "%(name)s" is live again: its conversions are funded.':
        "Ваш оффер «%(name)s» снова активен: его конверсии обеспечены.",
    "Required to reject; the publisher sees it.":
        "Обязательна при отклонении; вебмастер её увидит.",
    "Block the publisher": "Заблокировать вебмастера",
    "Click id": "ID клика",
    "A click of this offer; the newest is filled in.":
        "Клик этого оффера; подставлен самый свежий.",
    "Transaction id": "ID транзакции",
    "Sale amount": "Сумма продажи",
    "For percent goals, e.g. 49.90.": "Для процентных целей, например 49.90.",
    "Send test postback": "Отправить тестовый постбэк",
    "Postback URL": "URL постбэка",
    "We call it on each event. Macros: {click_id}, {sub1}…{sub5}, {payout}, {currency}, "
    "{status}, {conversion_id}, {offer_id}, {goal}, {event}. Empty: off.":
        "Мы вызываем его при каждом событии. Макросы: {click_id}, {sub1}…{sub5}, {payout}, "
        "{currency}, {status}, {conversion_id}, {offer_id}, {goal}, {event}. Пусто — выключено.",
    "When a conversion is recorded": "Когда конверсия записана",
    "When it is approved": "Когда она подтверждена",
    "When it is rejected": "Когда она отклонена",
    "Tick the conversions to decide.": "Отметьте конверсии, по которым принимаете решение.",
    ("%(num)d conversion decided.", "%(num)d conversions decided."): (
        "Решение принято по %(num)d конверсии.", "Решение принято по %(num)d конверсиям.",
        "Решение принято по %(num)d конверсиям."),
    ("%(num)d skipped: already decided or held for fraud review.",
     "%(num)d skipped: already decided or held for fraud review."): (
        "%(num)d пропущена: решение уже принято или она на фрод-проверке.",
        "%(num)d пропущены: решение уже принято или они на фрод-проверке.",
        "%(num)d пропущено: решение уже принято или они на фрод-проверке."),
    "The conversion is %(status)s.": "Статус конверсии: %(status)s.",
    "Give a click id and a transaction id.": "Укажите ID клика и ID транзакции.",
    "Test postback: %(code)s (HTTP %(status)s) — %(message)s Nothing was recorded.":
        "Тестовый постбэк: %(code)s (HTTP %(status)s) — %(message)s Ничего не записано.",
    "pending": "на проверке",
    "approved": "подтверждена",
    "awaiting funds": "ожидает средств",
    "A conversion that is %(current)s cannot become %(target)s.":
        "Конверсия в статусе «%(current)s» не может получить статус «%(target)s».",
    "This conversion is held for the operator's fraud review.":
        "Эта конверсия задержана для фрод-проверки оператором.",
    "Say why the conversion is rejected.": "Укажите, почему конверсия отклонена.",
    "No such conversion.": "Такой конверсии нет.",
    "After goal": "После цели",
    "Minimum sale": "Минимальная продажа",
    "Once per click": "Одна на клик",
    "converted within seconds of the click": "конверсия через считанные секунды после клика",
    "from a flagged click (bot or flood)": "с помеченного клика (бот или флуд)",
    "from the publisher's own address or device": "с адреса или устройства самого вебмастера",
    "many conversions from one address": "много конверсий с одного адреса",
    "bot or empty user agent": "бот или пустой user agent",
    "The publisher is blocked.": "Вебмастер заблокирован.",
    "The publisher is blocked and their undecided conversions are rejected.":
        "Вебмастер заблокирован, его нерешённые конверсии отклонены.",
    "Decided.": "Решение принято.",
    "The escrow holds %(available)s; one conversion of the highest goal needs %(needed)s with "
    "the network's fee. Top up the escrow first.":
        "В эскроу %(available)s; одна конверсия по самой дорогой цели с комиссией сети стоит "
        "%(needed)s. Сначала пополните эскроу.",
    "Pixel and JS snippet": "Пиксель и JS-сниппет",
    "Promo-code conversion (API)": "Конверсия по промокоду (API)",
    "Enter a full http(s) address; macros: %(macros)s.":
        "Введите полный адрес http(s); макросы: %(macros)s.",
    "The conversion is recorded; its payout is held in escrow until the end of the hold "
    "period.":
        "Конверсия записана; выплата по ней удерживается в эскроу до конца холда.",
    "This conversion was recorded before; nothing new was created.":
        "Эта конверсия уже была записана; ничего нового не создано.",
    "The conversion is recorded and held for a fraud review.":
        "Конверсия записана и задержана для фрод-проверки.",
    "The conversion is recorded, but the escrow does not cover it: it waits for funds and the "
    "offer is paused.":
        "Конверсия записана, но эскроу её не покрывает: она ждёт средств, а оффер "
        "приостановлен.",
    "Send click_id, goal and txid.": "Передайте click_id, goal и txid.",
    "Authenticate with the offer's postback secret or an HMAC signature.":
        "Подтвердите запрос секретом постбэка оффера или подписью HMAC.",
    "The publisher of this click is blocked; their links do not pay.":
        "Вебмастер этого клика заблокирован; его ссылки не оплачиваются.",
    "No click with this id.": "Клика с таким ID нет.",
    "No such promo code on your offers.": "У ваших офферов нет такого промокода.",
    "The offer is not live, so it does not take conversions.":
        "Оффер не активен и не принимает конверсии.",
    "This goal pays only after an earlier goal from the same click or customer.":
        "Эта цель оплачивается только после предыдущей цели того же клика или клиента.",
    "The click is older than the offer's attribution window.":
        "Клик старше окна атрибуции оффера.",
    "The offer has no goal with this code.": "У оффера нет цели с таким кодом.",
    "The amount is a whole number of minor units (1250 for 12.50).":
        "Сумма — целое число в минимальных единицах (1250 для 12.50).",
    "The sale amount is below this goal's minimum.":
        "Сумма продажи ниже минимальной для этой цели.",
    "The currency is not the offer's.": "Валюта не совпадает с валютой оффера.",
    "fraud": "фрод",
    "fraud review": "фрод-проверка",
    "Goal %(code)s: the minimum amount is not valid.":
        "Цель %(code)s: недопустимая минимальная сумма.",
    "Goal %(code)s can only require another goal of this offer.":
        "Цель %(code)s может требовать только другую цель этого оффера.",
    "Goal requirements go round in a circle.": "Требования целей образуют замкнутый круг.",
    "Conversions": "Конверсии",
    "Review conversions: approve, reject, see fraud signals and the postback log.":
        "Проверка конверсий: подтверждайте, отклоняйте, смотрите фрод-сигналы и журнал "
        "постбэков.",
    "Fraud": "Фрод",
    "Conversions held for review: approve, reject, block the publisher.":
        "Конверсии на проверке: подтвердить, отклонить, заблокировать вебмастера.",
    "Postback settings saved.": "Настройки постбэка сохранены.",
    "Your conversions, their status and when they become available; your postback URL.":
        "Ваши конверсии, их статус и когда они станут доступны; ваш URL постбэка.",
    "Held for the operator's fraud review": "Задержана для фрод-проверки оператором",
    "Report conversions": "Передача конверсий",
    "Postback log and test tool": "Журнал постбэков и тест",
    "Call the postback from your server when a goal is reached. Send click_id (we put it in "
    "your landing URL with the {click_id} macro), the goal code and your own transaction id; "
    "the same goal and transaction id twice is one conversion. Amounts are whole minor units: "
    "1250 for 12.50.":
        "Вызывайте постбэк со своего сервера, когда цель достигнута. Передайте click_id (мы "
        "подставляем его в URL лендинга макросом {click_id}), код цели и свой ID транзакции; "
        "одна и та же цель с тем же ID транзакции — одна конверсия. Суммы — целые числа в "
        "минимальных единицах: 1250 для 12.50.",
    "Authenticate with the secret parameter, or better, sign: HMAC-SHA256 (hex) with the "
    "postback secret over every other parameter sorted by name, each name=value "
    "percent-encoded (RFC 3986) and joined with &, sent as signature.":
        "Подтверждайте запрос параметром secret или, лучше, подписью: HMAC-SHA256 (hex) на "
        "секрете постбэка от всех остальных параметров, отсортированных по имени, каждый в виде "
        "name=value с percent-кодированием (RFC 3986), соединённых через &; передайте её в "
        "signature.",
    "Conversion #%(id)s": "Конверсия №%(id)s",
    "All conversions": "Все конверсии",
    "What was reported": "Что передано",
    "Customer": "Клиент",
    "Source": "Источник",
    "Sale": "Продажа",
    "Network fee": "Комиссия сети",
    "Recorded": "Записана",
    "Hold ends": "Холд заканчивается",
    "Decided": "Решение",
    "Traffic": "Трафик",
    "Click": "Клик",
    "promo code, no click": "промокод, без клика",
    "Sub-ids": "Саб-айди",
    "Fraud signals": "Фрод-сигналы",
    "Decide": "Решение",
    "Held for the operator's fraud review: you can reject it; approval is the operator's.":
        "Задержана для фрод-проверки: вы можете её отклонить, подтверждает оператор.",
    "Reason (required to reject)": "Причина (обязательна при отклонении)",
    "Postback log": "Журнал постбэков",
    "Received": "Получен",
    "Answer": "Ответ",
    "Approve what your records confirm and reject the rest before the hold period ends: "
    "whatever is still pending then is approved automatically.":
        "Подтверждайте то, что подтверждают ваши данные, и отклоняйте остальное до конца "
        "холда: всё, что к тому времени ещё на проверке, подтверждается автоматически.",
    "Any status": "Любой статус",
    "Every offer": "Все офферы",
    "Publisher id": "ID вебмастера",
    "From": "С",
    "to": "по",
    "Sub-id": "Саб-айди",
    "fraud review only": "только на фрод-проверке",
    "Select": "Выбрать",
    "Conversion": "Конверсия",
    "Offer and goal": "Оффер и цель",
    "Payout + fee": "Выплата + комиссия",
    "Select conversion %(id)s": "Выбрать конверсию %(id)s",
    "auto-approved %(when)s": "автоподтверждение %(when)s",
    "Approve selected": "Подтвердить выбранные",
    "Reject selected": "Отклонить выбранные",
    "Page %(page)s of %(pages)s": "Страница %(page)s из %(pages)s",
    "No conversions": "Конверсий нет",
    "Conversions appear here when your postbacks, pixels or promo-code calls report them.":
        "Конверсии появятся здесь, когда их передадут ваши постбэки, пиксели или вызовы по "
        "промокодам.",
    "Paused because the escrow does not cover its conversions. Top up the escrow: conversions "
    "waiting for funds are funded oldest first and the offer goes live again.":
        "Приостановлен: эскроу не покрывает его конверсии. Пополните эскроу — конверсии, "
        "ожидающие средств, будут обеспечены начиная с самых старых, и оффер снова станет "
        "активным.",
    "Top up": "Пополнить",
    "A sequence: “After goal” names a goal the same click or customer must reach first "
    "(first_payment after registration); “Minimum sale” is the least sale amount the goal pays "
    "for; “Once per click” pays the goal once per click, whatever the transaction id.":
        "Последовательность: «После цели» — цель, которую тот же клик или клиент должен "
        "достичь раньше (first_payment после registration); «Минимальная продажа» — наименьшая "
        "сумма продажи, за которую платит цель; «Одна на клик» — цель оплачивается один раз на "
        "клик при любом ID транзакции.",
    "Fraud queue": "Очередь фрод-проверки",
    "Conversions with fraud signals wait here instead of being approved at the end of their "
    "hold. Approve them, reject them, or block the publisher: blocking rejects every undecided "
    "conversion of theirs and stops their links.":
        "Конверсии с фрод-сигналами ждут здесь, а не подтверждаются в конце холда. "
        "Подтвердите, отклоните или заблокируйте вебмастера: блокировка отклоняет все его "
        "нерешённые конверсии и останавливает его ссылки.",
    "click %(when)s": "клик %(when)s",
    "Block this publisher? All their undecided conversions are rejected.":
        "Заблокировать вебмастера? Все его нерешённые конверсии будут отклонены.",
    "The queue is empty": "Очередь пуста",
    "No conversion is waiting for a fraud review.": "Ни одна конверсия не ждёт фрод-проверки.",
    "Every postback, pixel and promo-code call for this offer, accepted or not, with the answer "
    "it got. Secrets and signatures are masked.":
        "Все постбэки, пиксели и вызовы по промокодам для этого оффера — принятые и нет — с "
        "полученным ответом. Секреты и подписи скрыты.",
    "Send a test postback": "Отправить тестовый постбэк",
    "Runs the real checks with a signed request and shows the answer your server would get; "
    "nothing is recorded and no money moves.":
        "Выполняет настоящие проверки подписанным запросом и показывает ответ, который получил "
        "бы ваш сервер; ничего не записывается, деньги не двигаются.",
    "Answers": "Ответы",
    "ok, duplicate: 200 · fraud_suspected, insufficient_funds: 202 (recorded) · everything "
    "else is a refusal with a 4xx status and nothing is recorded.":
        "ok, duplicate: 200 · fraud_suspected, insufficient_funds: 202 (записано) · всё "
        "остальное — отказ со статусом 4xx, ничего не записывается.",
    "Answer code": "Код ответа",
    "Nothing received yet": "Пока ничего не получено",
    "Send a test postback, or fire one from your server with the examples on the offer's "
    "page.":
        "Отправьте тестовый постбэк или вызовите его со своего сервера по примерам на "
        "странице оффера.",
    "My conversions": "Мои конверсии",
    "A conversion is pending while the advertiser checks it; at the end of the hold period it "
    "is approved and its payout becomes available to withdraw.":
        "Конверсия на проверке, пока рекламодатель её проверяет; в конце холда она "
        "подтверждается, и выплату можно вывести.",
    "available %(when)s": "доступна %(when)s",
    "the advertiser's escrow is short; paid once topped up":
        "в эскроу рекламодателя не хватает средств; оплатится после пополнения",
    "No conversions yet": "Конверсий пока нет",
    "When visitors from your links reach an offer's goals, their conversions show up here.":
        "Когда посетители с ваших ссылок достигнут целей оффера, конверсии появятся здесь.",
    "Find offers": "Найти офферы",
    "We call your URL (GET) when one of your conversions is recorded, approved or rejected, "
    "so your tracker knows at once.":
        "Мы вызываем ваш URL (GET), когда ваша конверсия записана, подтверждена или "
        "отклонена, — ваш трекер узнаёт об этом сразу.",
    "Checking that it is us": "Как проверить, что это мы",
    "Each call carries a header %(header)s: TIME is the Unix time of the call and SIGNATURE "
    "the HMAC-SHA256 (hex) of TIME, a dot and the full URL, keyed with your postback secret. "
    "Refuse calls whose signature does not match or whose time is old.":
        "Каждый вызов несёт заголовок %(header)s: TIME — Unix-время вызова, SIGNATURE — "
        "HMAC-SHA256 (hex) от TIME, точки и полного URL на вашем секрете постбэка. Отклоняйте "
        "вызовы с неверной подписью или старым временем.",
    "Your secret appears here once you save a URL.":
        "Секрет появится здесь, когда вы сохраните URL.",
    "A call that fails (no answer within seconds, or not 2xx) is retried with growing pauses; "
    "the log below shows every delivery.":
        "Неудачный вызов (нет ответа за несколько секунд или ответ не 2xx) повторяется с "
        "растущими паузами; в журнале ниже видна каждая доставка.",
    "Deliveries": "Доставки",
    "Created": "Создана",
    "Event": "Событие",
    "URL": "URL",
    "State": "Состояние",
    "Attempts": "Попытки",
    "Last answer": "Последний ответ",
    "No deliveries yet": "Доставок пока нет",
    "Calls appear here once you set a URL and a conversion event happens.":
        "Вызовы появятся здесь, когда вы укажете URL и произойдёт событие конверсии.",
}
