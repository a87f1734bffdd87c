# ruff: noqa: RUF001 - Russian text: Cyrillic letters look like Latin ones
"""Russian for issue 7 (ratings, statistics, dashboards): `python tools/i18n_fill.py` this file."""

RU = {
    "Hour": "Час",
    "Conversions": "Конверсии",
    "Approved": "Одобрено",
    "Private offer": "Закрытый оффер",
    "Unknown category.": "Неизвестная категория.",
    "Public offers are open to every publisher already.":
        "Открытые офферы и так доступны всем вебмастерам.",
    "No such publisher.": "Такого вебмастера нет.",
    "Could not invite.": "Не удалось пригласить.",
    "Invited: the publisher can now see and promote this offer.":
        "Приглашение отправлено: вебмастер теперь видит этот оффер и может его продвигать.",
    "Choose one of your private offers.": "Выберите один из ваших закрытых офферов.",
    "Approval rate": "Доля одобренных",
    "Conversion rate": "Конверсия",
    "Earnings per click": "Доход с клика",
    "Volume": "Объём",
    "Clean traffic": "Чистый трафик",
    "Tenure": "Стаж",
    "Fraud penalty": "Штраф за фрод",
    "Approved out of decided conversions, at its 95 % lower bound (Wilson).":
        "Одобренные из рассмотренных конверсий, по нижней границе 95 % (Уилсон).",
    "Approved conversions per click, blended with 300 clicks at the network rate.":
        "Одобренные конверсии на клик, смешанные с 300 кликами по средней конверсии сети.",
    "What your clicks earn compared with the same offers network-wide, blended with 300 "
    "average clicks.":
        "Сколько приносят ваши клики по сравнению с теми же офферами по всей сети, со "
        "смешиванием с 300 средними кликами.",
    "Approved conversions on a log scale; 1,000 earn every point.":
        "Одобренные конверсии в логарифмической шкале; 1 000 дают все баллы.",
    "Share of clicks not flagged as bots, floods or wrong countries, at its 95 % lower bound.":
        "Доля кликов, не помеченных как боты, флуд или чужие страны, по нижней границе 95 %.",
    "Account age; a full year earns every point.":
        "Возраст аккаунта; полный год даёт все баллы.",
    "Conversions rejected for fraud signals, as a share of decided ones.":
        "Конверсии, отклонённые из-за признаков фрода, как доля рассмотренных.",
    "Rising": "Растёт",
    "Top 10 % of the network": "Топ-10 % сети",
    "Top 10 %% in %(category)s": "Топ-10 %% в категории «%(category)s»",
    "Dates are YYYY-MM-DD.": "Даты в формате ГГГГ-ММ-ДД.",
    "`to` is before `from`.": "`to` раньше, чем `from`.",
    "At most 366 days at a time.": "Не больше 366 дней за раз.",
    "This key's owner has no such role.": "У владельца этого ключа нет такой роли.",
    "group_by must be one of: %(names)s.": "group_by должен быть одним из: %(names)s.",
    "Unknown grouping.": "Неизвестная группировка.",
    "Statistics": "Статистика",
    "Clicks, conversions and earnings live, by offer, link, sub-id, country and day; charts, "
    "funnel and CSV.":
        "Клики, конверсии и доход в реальном времени по офферам, ссылкам, субаккаунтам, "
        "странам и дням; графики, воронка и CSV.",
    "Ratings": "Рейтинги",
    "Your score, rank and trend, the leaderboards, and how offers pay.":
        "Ваш балл, место и динамика, рейтинги вебмастеров и доходность офферов.",
    "Clicks, conversions and spend per offer and publisher, budget left, caps, and who brings "
    "your conversions.":
        "Клики, конверсии и расходы по офферам и вебмастерам, остаток бюджета, капы и кто "
        "приносит ваши конверсии.",
    "Network": "Сеть",
    "Network totals, revenue, top publishers and offers, fraud queue, job queues.":
        "Итоги по сети, выручка, лучшие вебмастера и офферы, очередь фрода, очереди задач.",
    "Publishers": "Вебмастера",
    "The publisher leaderboard: pick performers and invite them to private offers.":
        "Рейтинг вебмастеров: выбирайте исполнителей и приглашайте их в закрытые офферы.",
    "How the score is built": "Как считается балл",
    "Window: the last 90 days (or the period you pick); the newest 30 days count fully, the "
    "30 before half, the oldest 30 a quarter.":
        "Окно: последние 90 дней (или выбранный период); последние 30 дней учитываются "
        "полностью, предыдущие 30 — наполовину, самые старые 30 — на четверть.",
    "Approval rate (20 points): approved out of decided conversions, at the lower end of its "
    "95 %% confidence interval (Wilson), so 1 of 1 is worth far less than 300 of 310.":
        "Доля одобренных (20 баллов): одобренные из рассмотренных конверсий по нижней границе "
        "95 %% доверительного интервала (Уилсон), поэтому 1 из 1 стоит гораздо меньше, чем 300 "
        "из 310.",
    "Conversion rate and earnings per click (20 points each): your numbers blended with 300 "
    "clicks at the network average (Bayesian shrinkage), compared with that average; the "
    "average earns half the points.":
        "Конверсия и доход с клика (по 20 баллов): ваши показатели, смешанные с 300 кликами по "
        "среднему сети (байесовское сглаживание), в сравнении с этим средним; средний уровень "
        "даёт половину баллов.",
    "Volume (20 points): approved conversions on a log scale, 1,000 earn every point. Tenure "
    "(10 points): a year earns every point.":
        "Объём (20 баллов): одобренные конверсии в логарифмической шкале, 1 000 дают все баллы. "
        "Стаж (10 баллов): год даёт все баллы.",
    "Clean traffic (10 points): the share of clicks not flagged, at its 95 %% lower bound. "
    "Flagged clicks stay in every denominator, so they can only lower CR and EPC.":
        "Чистый трафик (10 баллов): доля непомеченных кликов по нижней границе 95 %%. "
        "Помеченные клики остаются во всех знаменателях, поэтому могут только снизить CR и EPC.",
    "Fraud penalty (up to −25 points): conversions rejected for fraud signals as a share of "
    "decided ones. Rejected conversions never count as earnings.":
        "Штраф за фрод (до −25 баллов): конверсии, отклонённые из-за признаков фрода, как доля "
        "рассмотренных. Отклонённые конверсии никогда не считаются доходом.",
    "Equal scores share a rank. Trend compares with the same score computed 7 days earlier.":
        "При равных баллах место общее. Динамика — сравнение с тем же баллом, посчитанным на "
        "7 дней раньше.",
    "Up since the previous period": "Выше, чем в прошлом периоде",
    "Down since the previous period": "Ниже, чем в прошлом периоде",
    "About the same as the previous period": "Примерно как в прошлом периоде",
    "Recomputed from the hourly statistics at %(time)s; the job runs every few minutes.":
        "Пересчитано по почасовой статистике в %(time)s; задача запускается каждые несколько "
        "минут.",
    "Not computed yet: the job runs every few minutes once there is traffic.":
        "Ещё не посчитано: задача запускается каждые несколько минут, как только появится "
        "трафик.",
    "90 days": "90 дней",
    "CR": "CR",
    "EPC": "EPC",
    "Earnings": "Доход",
    "%(first)s – %(last)s, days in your time zone (%(tz)s).":
        "%(first)s – %(last)s, дни в вашем часовом поясе (%(tz)s).",
    ("%(num)s cap is at 90 %% or more of its limit.",
     "%(num)s caps are at 90 %% or more of their limits."):
        ("%(num)s кап заполнен на 90 %% и больше.",
         "%(num)s капа заполнены на 90 %% и больше.",
         "%(num)s капов заполнены на 90 %% и больше."),
    "Escrow left (%(currency)s)": "Остаток на эскроу (%(currency)s)",
    "about %(days)s days at the last 7 days' pace (%(daily)s a day)":
        "примерно %(days)s дн. при темпе последних 7 дней (%(daily)s в день)",
    "no spend in the last 7 days": "за последние 7 дней расходов не было",
    "Top 20 %% of publishers": "Топ-20 %% вебмастеров",
    "of your conversions come from %(top)s of %(all)s publishers":
        "ваших конверсий приносят %(top)s из %(all)s вебмастеров",
    "Concentration": "Концентрация",
    "The Pareto view: the closer to 100 %%, the more you depend on a few publishers. Invite "
    "more from the leaderboard to spread the risk.":
        "Принцип Парето: чем ближе к 100 %%, тем сильнее вы зависите от нескольких вебмастеров. "
        "Пригласите ещё из рейтинга, чтобы распределить риск.",
    "Leaderboard": "Рейтинг",
    "Export CSV": "Выгрузить CSV",
    "Spend": "Расход",
    "Rejected": "Отклонено",
    "Fraud": "Фрод",
    "Best publishers": "Лучшие вебмастера",
    "No traffic in this period": "В этом периоде трафика нет",
    "Once publishers send clicks to your live offers, they show here within seconds.":
        "Как только вебмастера начнут присылать клики на ваши активные офферы, они появятся "
        "здесь за считаные секунды.",
    "Cap": "Кап",
    "Used": "Использовано",
    "Usage": "Заполнение",
    "near the cap": "почти исчерпан",
    "None of your offers has a cap.": "Ни у одного вашего оффера нет капа.",
    "Rating": "Рейтинг",
    "No publisher traffic in this period.": "В этом периоде трафика от вебмастеров нет.",
    "Rising publishers": "Растущие вебмастера",
    "%(now)s conversions, %(before)s the period before":
        "конверсий: %(now)s, в прошлом периоде: %(before)s",
    "Nobody brought more conversions than in the period before.":
        "Никто не принёс больше конверсий, чем в прошлом периоде.",
    "Publisher ratings": "Рейтинг вебмастеров",
    "Best publishers on %(offer)s": "Лучшие вебмастера оффера «%(offer)s»",
    "My rating": "Мой рейтинг",
    "Offer ratings": "Рейтинг офферов",
    "Scores from 0 to 100 built from approved conversions, earnings per click, conversion and "
    "approval rates, volume, tenure and clean traffic over a rolling window; recent weeks count "
    "more, small samples are pulled toward the network average, and fraud only ever lowers a "
    "score.":
        "Баллы от 0 до 100 по одобренным конверсиям, доходу с клика, конверсии, доле "
        "одобренных, объёму, стажу и чистоте трафика за скользящее окно; последние недели "
        "весят больше, малые выборки подтягиваются к среднему по сети, а фрод может только "
        "снизить балл.",
    "Whole network": "Вся сеть",
    "%(days)s days": "%(days)s дн.",
    "Rank": "Место",
    "Score": "Балл",
    "Trend": "Динамика",
    "Badges": "Значки",
    "Invite to a private offer": "Пригласить в закрытый оффер",
    "top %(share)s %%": "топ-%(share)s %%",
    ("%(num)s publisher ranked.", "%(num)s publishers ranked."):
        ("В рейтинге %(num)s вебмастер.", "В рейтинге %(num)s вебмастера.",
         "В рейтинге %(num)s вебмастеров."),
    "Filtered: computed just now from the hourly statistics.":
        "С фильтром: посчитано только что по почасовой статистике.",
    "Nobody ranked yet": "В рейтинге пока никого",
    "Publishers appear here once they have clicks in the period.":
        "Вебмастера появятся здесь, когда у них будут клики за период.",
    "How offers pay over the last 90 days, network-wide: earnings per valid click, conversion "
    "rate, the share of decided conversions the advertiser approves, and how long a conversion "
    "waits for its decision.":
        "Как офферы платят за последние 90 дней по всей сети: доход с засчитанного клика, "
        "конверсия, доля рассмотренных конверсий, которые рекламодатель одобряет, и сколько "
        "конверсия ждёт решения.",
    "Hold time": "Время холда",
    "Average hold": "Средний холд",
    "Offers open to you appear here with their numbers.":
        "Доступные вам офферы появятся здесь вместе с показателями.",
    "flagged": "помеченные",
    "approved": "одобрено",
    "Revenue": "Выручка",
    "network fees and commissions in the period": "комиссии сети за период",
    "Fraud queue": "Очередь фрода",
    "conversions held for review": "конверсии, задержанные для проверки",
    "Payouts by currency": "Выплаты по валютам",
    "Top publishers": "Лучшие вебмастера",
    "Top offers": "Лучшие офферы",
    "Job queues": "Очереди задач",
    "Queue": "Очередь",
    "Waiting": "Ожидают",
    "Failed": "С ошибкой",
    "Rating of %(name)s": "Рейтинг: %(name)s",
    "out of 100": "из 100",
    "#%(rank)s of %(ranked)s": "№%(rank)s из %(ranked)s",
    "was %(score)s a week earlier": "неделю назад было %(score)s",
    "no earlier period yet": "более раннего периода пока нет",
    "Why this score": "Из чего сложился балл",
    "Weighted over the window: %(clicks)s clicks (%(flagged)s flagged), %(approved)s approved, "
    "%(rejected)s rejected (%(fraud)s for fraud); network conversion rate %(cr)s.":
        "С весами за окно: кликов %(clicks)s (помечено %(flagged)s), одобрено %(approved)s, "
        "отклонено %(rejected)s (за фрод %(fraud)s); конверсия сети %(cr)s.",
    "By category": "По категориям",
    "Not rated yet": "Рейтинга пока нет",
    "A publisher is rated once they have clicks in the last 90 days.":
        "Рейтинг появится, когда у вебмастера будут клики за последние 90 дней.",
    "Pending": "Ожидают",
    "Awaiting funds": "Ждут пополнения",
    "live": "в реальном времени",
    "unique": "уникальные",
    "conversions per valid click": "конверсий на засчитанный клик",
    "earnings per valid click": "доход с засчитанного клика",
    "No earnings in this period yet.": "В этом периоде дохода пока нет.",
    "Over time": "Динамика по дням",
    "Clicks and conversions per day": "Клики и конверсии по дням",
    "The chart needs JavaScript; the table below has the same numbers by day.":
        "Для графика нужен JavaScript; те же числа по дням есть в таблице ниже.",
    "Funnel": "Воронка",
    "Breakdown": "Разбивка",
}
