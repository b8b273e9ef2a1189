"""The message itself: HTML and text bodies from the layouts, and the RFC 5322 bytes (EM9).

One message per send: every `to` recipient in one To header (bcc addresses travel in the
envelope only), a multipart/alternative text + HTML body, and the document PDF attached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tally.domain.emails import Recipient, one_line

_ENVIRONMENT = Environment(
    loader=PackageLoader("tally", "emails/templates"),
    autoescape=select_autoescape(enabled_extensions=("html.jinja",), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_BLANK_LINES = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "application"
    subtype: str = "pdf"


@dataclass(frozen=True)
class Body:
    text: str
    html: str


def render_body(
    *,
    company_name: str,
    subject: str,
    message: str,
    url: str | None,
    button: str,
    attachment: str | None,
) -> Body:
    """The text part (the message, then the link) and the HTML part (the same text, escaped,
    in paragraphs, then a button to the document's page). Inline CSS only: mail clients drop
    style sheets."""
    text = message.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [block.split("\n") for block in _BLANK_LINES.split(text.strip("\n")) if block]
    html = _ENVIRONMENT.get_template("email.html.jinja").render(
        company_name=company_name,
        subject=subject,
        paragraphs=paragraphs,
        url=url,
        button=button,
        attachment=attachment,
    )
    plain = _ENVIRONMENT.get_template("email.txt.jinja").render(
        message=text, url=url, button=button
    )
    return Body(text=plain, html=html)


def _header_text(value: str) -> str:
    """Header values never carry line breaks (header injection); control characters go."""
    return one_line("".join(ch if ch.isprintable() else " " for ch in value))


def address(email: str, name: str | None) -> Address:
    username, _, domain = email.rpartition("@")
    return Address(display_name=_header_text(name or ""), username=username, domain=domain)


def build_message(
    *,
    sender_name: str,
    sender_email: str,
    to: list[Recipient],
    subject: str,
    body: Body,
    attachments: list[Attachment],
    now: int,
) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = address(sender_email, sender_name)
    message["To"] = [address(r.email, r.name) for r in to]
    message["Subject"] = _header_text(subject)
    message["Date"] = format_datetime(datetime.fromtimestamp(now, UTC))
    domain = sender_email.rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(body.text, subtype="plain", charset="utf-8")
    message.add_alternative(body.html, subtype="html", charset="utf-8")
    for attachment in attachments:
        message.add_attachment(
            attachment.content,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=attachment.filename,
        )
    return message


def to_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=SMTP)
