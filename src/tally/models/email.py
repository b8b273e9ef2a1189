"""Sent documents (emails.md): one stored message per send, one email row per recipient."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tally.models.base import Base, IdType, JsonType, Timestamp


class EmailMessage(Base):
    """The rendered MIME message exactly as it is (or was) handed to the SMTP server."""

    __tablename__ = "email_messages"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(255))
    # Envelope recipients: every `to` address, then every bcc address.
    recipients: Mapped[list[str]] = mapped_column(JsonType, default=list)
    bcc: Mapped[list[str]] = mapped_column(JsonType, default=list)
    # RFC 5322 bytes: headers, text and HTML parts, attachments.
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(Timestamp)

    __table_args__ = (Index(None, "account_id", "id"),)


class Email(Base):
    """The API's email object (emails.md §3): one per `to` recipient."""

    __tablename__ = "emails"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # The API id: 32 random lowercase hex characters.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("email_messages.id", ondelete="CASCADE"))
    # Plain ids, not foreign keys: the record of what was sent outlives the documents.
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    document_type: Mapped[str] = mapped_column(String(32))
    document_id: Mapped[int] = mapped_column(BigInteger)
    email: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    opens_detail: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    created_at: Mapped[int] = mapped_column(Timestamp)
    updated_at: Mapped[int] = mapped_column(Timestamp)

    __table_args__ = (
        Index(None, "account_id", "id"),
        Index(None, "account_id", "customer_id", "id"),
        Index(None, "account_id", "email", "id"),
        Index(None, "message_id"),
    )
