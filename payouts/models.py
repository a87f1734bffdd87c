"""Money tables: the ledger (accounts, transactions, postings), deposits, refunds, Stripe events,
publishers' payout accounts and payouts.

The ledger tables are append-only. Their invariants are enforced twice: here (named CHECK and
UNIQUE constraints, mirrored by migration 0003_ledger) and by PostgreSQL triggers in that
migration (postings sum to zero per transaction and currency at commit; no UPDATE or DELETE of a
posting or transaction). See payouts/ledger.py for the sign convention.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cpa_network.database import UTCDateTime, utcnow
from cpa_network.extensions import db

# Integer primary keys on SQLite (its rowid alias), 64-bit on PostgreSQL: postings grow fast.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class AccountKind(StrEnum):
    """What an account holds. Owner: a user id, a lot sale id, or 0 for the network itself."""

    ADVERTISER_ESCROW = "advertiser_escrow"  # prepaid, not yet committed (owner: advertiser)
    ADVERTISER_HOLD = "advertiser_hold"  # payouts of pending conversions (owner: advertiser)
    NETWORK_PENDING_FEE = "network_pending_fee"  # fees of pending conversions (owner: advertiser)
    PUBLISHER_AVAILABLE = "publisher_available"  # approved earnings, withdrawable (owner: pub)
    PAYOUT_IN_FLIGHT = "payout_in_flight"  # a publisher's withdrawal being transferred
    REFUND_IN_FLIGHT = "refund_in_flight"  # escrow being refunded to the advertiser's card
    PUBLISHER_PAID = "publisher_paid"  # what reached the publisher's bank, cumulative (owner: pub)
    EXCHANGE_ESCROW = "exchange_escrow"  # a buyer's money in the guarantee period (owner: lot sale)
    # What the card issuer took back of the owner's deposit while its dispute (chargeback) is
    # open (owner: the deposit's owner): neither theirs to spend nor in the platform's balance.
    DISPUTED = "disputed"
    NETWORK_REVENUE = "network_revenue"  # fees and commissions (owner: 0); may go negative
    GATEWAY_CLEARING = "gateway_clearing"  # money in/out of the platform (owner: 0); may be < 0


# Kinds whose owner_id is a user id (exchange escrow is owned by a lot sale, the rest by 0).
USER_KINDS = frozenset({
    AccountKind.ADVERTISER_ESCROW, AccountKind.ADVERTISER_HOLD, AccountKind.NETWORK_PENDING_FEE,
    AccountKind.PUBLISHER_AVAILABLE, AccountKind.PAYOUT_IN_FLIGHT, AccountKind.REFUND_IN_FLIGHT,
    AccountKind.PUBLISHER_PAID, AccountKind.DISPUTED})
# Only these may go below zero; the database refuses it for every other kind (CHECK below).
MAY_GO_NEGATIVE = frozenset({AccountKind.GATEWAY_CLEARING, AccountKind.NETWORK_REVENUE})
NETWORK_OWNER = 0
_KIND_LIST = ", ".join(f"'{k.value}'" for k in AccountKind)
_NEGATIVE_LIST = ", ".join(f"'{k.value}'" for k in sorted(MAY_GO_NEGATIVE))


class LedgerAccount(db.Model):
    """One balance: kind + owner + currency. `balance` caches the sum of its postings."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("kind", "owner_id", "currency",
                         name="uq_ledger_accounts_kind_owner_currency"),
        # Lets postings reference (account, currency) so a posting's currency is its account's.
        UniqueConstraint("id", "currency", name="uq_ledger_accounts_id_currency"),
        CheckConstraint(f"kind IN ({_KIND_LIST})", name="kind_known"),
        CheckConstraint("owner_id >= 0", name="owner_not_negative"),
        CheckConstraint("length(currency) = 3 AND currency = upper(currency)",
                        name="currency_iso"),
        CheckConstraint(f"balance >= 0 OR kind IN ({_NEGATIVE_LIST})",
                        name="balance_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int] = mapped_column(BigInteger, default=NETWORK_OWNER)
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def may_go_negative(self) -> bool:
        return self.kind in MAY_GO_NEGATIVE

    def __repr__(self) -> str:
        return f"<LedgerAccount {self.id} {self.kind}:{self.owner_id}:{self.currency}>"


class LedgerTransaction(db.Model):
    """Two or more postings summing to zero per currency; immutable; one per idempotency key."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (
        CheckConstraint("length(idempotency_key) > 0", name="key_not_empty"),
        CheckConstraint("reverses_id IS NULL OR reverses_id <> id", name="not_own_reversal"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    reason: Mapped[str] = mapped_column(String(40), index=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    # Links to what caused it: {"deposit": 12, "conversion": 7, "stripe_event": "evt_..."}.
    # On PostgreSQL indexed by (refs ->> 'publisher') (migration 0017; escrow.names_publisher).
    refs: Mapped[dict] = mapped_column(JSON, default=dict)
    # SHA-256 of reason + postings: a replayed key must carry the same fingerprint.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The transaction this one reverses; UNIQUE, so an original can be reversed once only.
    reverses_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    postings: Mapped[list["Posting"]] = relationship(
        back_populates="transaction", order_by="Posting.id", lazy="selectin")
    reverses: Mapped["LedgerTransaction | None"] = relationship(
        remote_side=[id], foreign_keys=[reverses_id])

    def __repr__(self) -> str:
        return f"<LedgerTransaction {self.id} {self.reason} {self.idempotency_key}>"


class Posting(db.Model):
    """One leg: a signed amount on one account (positive: the account's holder has more)."""

    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        ForeignKeyConstraint(["account_id", "currency"],
                             ["ledger_accounts.id", "ledger_accounts.currency"],
                             name="fk_ledger_postings_account_currency"),
        Index("ix_ledger_postings_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="postings")
    account: Mapped[LedgerAccount] = relationship(
        foreign_keys=[account_id], primaryjoin="Posting.account_id == LedgerAccount.id",
        lazy="joined")


class DepositStatus(StrEnum):
    """created -> pending (at the gateway) -> succeeded | failed | expired."""

    CREATED = "created"
    PENDING = "pending"  # the customer is paying, or an async payment method is clearing
    SUCCEEDED = "succeeded"  # escrow credited
    FAILED = "failed"
    EXPIRED = "expired"


# What a deposit credits: an advertiser's escrow, or a publisher's available balance (money to
# buy lots on the exchange with). Only escrow top-ups are ever refunded to the card.
DEPOSIT_KINDS = (AccountKind.ADVERTISER_ESCROW, AccountKind.PUBLISHER_AVAILABLE)


class Deposit(db.Model):
    """A top-up through the gateway (Stripe Checkout or the sandbox) of the owner's account of
    `account_kind`: an advertiser's escrow or a publisher's available balance."""

    __tablename__ = "deposits"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount",
                        name="refunded_within_amount"),
        CheckConstraint("status IN ('created', 'pending', 'succeeded', 'failed', 'expired')",
                        name="status_known"),
        CheckConstraint("account_kind IN ('advertiser_escrow', 'publisher_available')",
                        name="account_kind_known"),
        CheckConstraint("account_kind = 'advertiser_escrow' OR refunded_amount = 0",
                        name="only_escrow_refunded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    account_kind: Mapped[str] = mapped_column(String(32), default=AccountKind.ADVERTISER_ESCROW,
                                              server_default=AccountKind.ADVERTISER_ESCROW.value)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    gateway: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=DepositStatus.CREATED)
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(String(2000))
    # Indexed: a dispute (chargeback) names the payment intent, not the deposit.
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    failure_reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    credited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The API's `Idempotency-Key` ("api:<user>:<key>", payouts/request_keys.py): one deposit per
    # key, however often the call arrives. None: made without a key. Freed if the Checkout
    # could not be opened, so the refused call may be sent again with its key.
    request_key: Mapped[str | None] = mapped_column(String(80), unique=True)

    @property
    def refundable(self) -> int:
        return self.amount - self.refunded_amount if self.status == DepositStatus.SUCCEEDED else 0


class RefundStatus(StrEnum):
    """pending (money in flight) -> succeeded | failed (money back in escrow); succeeded ->
    failed when the gateway reports a late failure (the money back in escrow then)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class EscrowRefund(db.Model):
    """Unused escrow going back to the advertiser: a refund of (part of) one deposit. One
    withdrawal request may span deposits: its refunds share the request key, parts 0, 1, ..."""

    __tablename__ = "escrow_refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status_known"),
        CheckConstraint("request_part >= 0", name="request_part_not_negative"),
        # A request key makes one withdrawal: a replay's part 0 is refused (NULLs never clash).
        UniqueConstraint("request_key", "request_part"),
        Index("ix_escrow_refunds_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deposit_id: Mapped[int] = mapped_column(ForeignKey("deposits.id"), index=True)
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=RefundStatus.PENDING)
    gateway_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    failure_reason: Mapped[str] = mapped_column(String(300), default="")
    # The withdrawal request this refund is part of (payouts/request_keys.py), or None.
    request_key: Mapped[str | None] = mapped_column(String(80))
    request_part: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The job stopped and will not retry by itself (the gateway says the charge is already
    # refunded, or saw the idempotency key with other parameters): an operator has to look.
    # The money stays in flight meanwhile.
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    last_error: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    deposit: Mapped[Deposit] = relationship()

    @property
    def idempotency_key(self) -> str:
        """Derived from the id alone: every attempt at this refund asks for the same one."""
        return f"escrow-refund-{self.id}"


class StripeEvent(db.Model):
    """Every webhook event we accepted, by Stripe's id: the row makes processing happen once."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(60), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PayoutAccount(db.Model):
    """A publisher's payout settings and the connected account that receives their transfers."""

    __tablename__ = "payout_accounts"
    __table_args__ = (
        CheckConstraint("minimum_major IS NULL OR minimum_major > 0", name="minimum_positive"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    gateway: Mapped[str] = mapped_column(String(16), default="")
    # Stripe Connect Express account (acct_...), or sandbox_acct_<user id>; None: not connected.
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    payouts_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    details_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    # The publisher's own threshold in major units (whole dollars, euros...); None: the network's.
    minimum_major: Mapped[int | None] = mapped_column(Integer)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)  # weekly automatic payouts
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # last account state


class PayoutStatus(StrEnum):
    """requested -> submitting -> submitted -> paid, or failed (money back to available)."""

    REQUESTED = "requested"  # money in flight, the job is queued
    SUBMITTING = "submitting"  # a job is calling (or was calling) the gateway
    SUBMITTED = "submitted"  # the gateway accepted the transfer; its id is stored
    PAID = "paid"  # the ledger booked it as paid out
    FAILED = "failed"  # refused for good; the money is back in available


class Payout(db.Model):
    """A publisher's withdrawal: money in flight until one transfer at the gateway settles it."""

    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('requested', 'submitting', 'submitted', 'paid', 'failed')",
                        name="status_known"),
        CheckConstraint("transfer_id IS NOT NULL OR status NOT IN ('submitted', 'paid')",
                        name="transfer_when_submitted"),
        CheckConstraint("reversed_amount >= 0 AND reversed_amount <= amount",
                        name="reversed_within_amount"),
        Index("ix_payouts_status_requested_at", "status", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=PayoutStatus.REQUESTED)
    gateway: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(255))  # the connected account at request
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    # What makes one request one payout (payouts/request_keys.py): "auto:<publisher>:<currency>:
    # <ISO week>" (a week pays once), "retry:<failed payout>" (retried once), "web:<user>:<token>"
    # (a confirmation page), "api:<user>:<Idempotency-Key>".
    request_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    retry_of_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id"), index=True)
    transfer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(300), default="")  # the latest, even if retried
    # The job stopped and will not retry by itself (e.g. the idempotency key was used with
    # other parameters): an operator has to look. The money stays in flight meanwhile.
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    failure_code: Mapped[str] = mapped_column(String(60), default="")
    failure_reason: Mapped[str] = mapped_column(String(300), default="")
    # What the gateway took back of the paid transfer (a reversal, e.g. from Stripe's
    # dashboard); it went back to the publisher's available balance.
    reversed_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitting_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # paid or failed
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def transfer_group(self) -> str:
        """Stripe's transfer_group: how the reconciler finds this payout's transfer."""
        return f"payout_{self.id}"

    @property
    def idempotency_key(self) -> str:
        """Derived from the id alone: every attempt at this payout asks for the same transfer."""
        return f"payout-{self.id}-transfer"

    @property
    def in_flight(self) -> bool:
        return self.status in (PayoutStatus.REQUESTED, PayoutStatus.SUBMITTING,
                               PayoutStatus.SUBMITTED)
