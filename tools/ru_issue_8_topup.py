# ruff: noqa: RUF001 - Russian text: Cyrillic letters look like Latin ones
"""Russian translations for issue-8-topup (publisher top-ups of the available balance)."""

RU = {
    "Use escrow or available.": "Укажите escrow или available.",
    "Only publishers can top up their available balance.":
        "Пополнять доступный баланс могут только вебмастера.",
    "%(amount)s is in your available balance.": "%(amount)s на вашем доступном балансе.",
    "a deposit credits its owner's escrow or available balance, in full, and nobody else":
        "пополнение зачисляется целиком на эскроу или доступный баланс его владельца и никому "
        "другому",
    "Your available balance of %(available)s is %(short)s short of the price %(price)s. "
    "Top up at least %(top_up)s first, then buy.":
        "На вашем доступном балансе %(available)s — на %(short)s меньше цены %(price)s. "
        "Сначала пополните его минимум на %(top_up)s, затем покупайте.",
    "Deposit at least %(minor)s minor units of %(currency)s to your available balance "
    "(POST /api/v1/deposits), then buy again.":
        "Пополните доступный баланс минимум на %(minor)s минимальных единиц %(currency)s "
        "(POST /api/v1/deposits), затем повторите покупку.",
    "%(amount)s is in your available balance. Check the lot once more and confirm the "
    "purchase.":
        "%(amount)s на вашем доступном балансе. Ещё раз проверьте лот и подтвердите покупку.",
    "Top up your available balance with %(amount)s?":
        "Пополнить доступный баланс на %(amount)s?",
    "The money goes to your available balance at once.":
        "Деньги сразу поступят на ваш доступный баланс.",
    "You will pay on Stripe's checkout page; your available balance is credited when Stripe "
    "confirms the payment.":
        "Вы оплатите на странице Stripe; доступный баланс пополнится, когда Stripe подтвердит "
        "платёж.",
    "Then you come back to the lot and confirm the purchase: nothing is bought until you do.":
        "Затем вы вернётесь к лоту и подтвердите покупку: пока вы этого не сделаете, ничего не "
        "покупается.",
    "Top-ups are not refunded to the card: what you do not spend is withdrawn like your "
    "earnings.":
        "Пополнения не возвращаются на карту: неизрасходованное выводится так же, как заработок.",
    "Yes, top up": "Да, пополнить",
    "The money is in your available balance.": "Деньги на вашем доступном балансе.",
    "Stripe has your payment. Your available balance is credited as soon as Stripe's signed "
    "confirmation reaches us, usually within seconds.":
        "Stripe получил ваш платёж. Доступный баланс пополнится, как только до нас дойдёт "
        "подписанное подтверждение Stripe, обычно за несколько секунд.",
    "Back to earnings": "Назад к заработку",
    "Add money to your available balance to buy referrals on the exchange. You will confirm "
    "the amount before any money moves.":
        "Пополните доступный баланс, чтобы покупать рефералов на бирже. Перед списанием денег "
        "вы подтвердите сумму.",
    "Add money to your available balance with a card through Stripe Checkout, to buy referrals "
    "on the exchange. It is credited when Stripe confirms the payment.":
        "Пополните доступный баланс картой через Stripe Checkout, чтобы покупать рефералов на "
        "бирже. Деньги зачисляются, когда Stripe подтвердит платёж.",
    "Your available balance is %(short)s short of the price.":
        "До цены на вашем доступном балансе не хватает %(short)s.",
    "Your top-up of %(amount)s is waiting for the payment to be confirmed; this page shows it "
    "in your balance once it is.":
        "Пополнение на %(amount)s ждёт подтверждения платежа; после подтверждения эта страница "
        "покажет его в балансе.",
    "See the top-up": "Открыть пополнение",
    "Top up %(amount)s and buy": "Пополнить на %(amount)s и купить",
    "You confirm the amount first. After the payment you come back to this page and confirm "
    "the purchase: nothing is bought until you do.":
        "Сначала вы подтвердите сумму. После оплаты вы вернётесь на эту страницу и подтвердите "
        "покупку: пока вы этого не сделаете, ничего не покупается.",
}
