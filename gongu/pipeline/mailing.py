"""Sending one e-mail through the SMTP server of `[mail]` (standard library smtplib + email.message): UTF-8
text, the Chinese subject encoded per RFC 2047 by the default policy. A failure is a MailError with the
reason a person can act on (server unreachable, login refused, address refused), never a traceback."""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from gongu.output import GonguError
from gongu.settings import MAIL_PASSWORD_ENV, MailSettings

SENDER_NAME = "Gongu 公估工作台"


class MailError(GonguError):
    plain = True


def message(mail: MailSettings, to: list[str], subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((SENDER_NAME, mail.sender))
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=mail.sender.rpartition("@")[2])
    msg.set_content(body, charset="utf-8")
    return msg


def send(mail: MailSettings, msg: EmailMessage) -> None:
    """Hand `msg` to the server; returns once the server accepted it for every recipient."""
    where = f"{mail.host}:{mail.port}"
    password = os.environ.get(MAIL_PASSWORD_ENV)
    if mail.username and not password:
        raise MailError(f"[mail] username 已设置，但环境变量 {MAIL_PASSWORD_ENV} 中没有 SMTP 口令")
    try:
        if mail.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(mail.host, mail.port, timeout=mail.timeout,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout)
        with client:
            if mail.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if mail.username:
                client.login(mail.username, password or "")
            refused = client.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"邮件服务器 {where} 拒绝登录（{exc.smtp_code}）：检查 [mail] username 与 "
                        f"{MAIL_PASSWORD_ENV}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(f"邮件服务器 {where} 拒收全部收件人：{'、'.join(exc.recipients)}") from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise MailError(f"邮件服务器 {where} 拒绝了邮件（{exc.smtp_code} {text}）") from None
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise MailError(f"无法经邮件服务器 {where} 发送（{type(exc).__name__}: {exc}）：检查 [mail] host、port、"
                        "security 与网络") from None
    if refused:
        raise MailError(f"邮件服务器 {where} 拒收部分收件人：{'、'.join(refused)}")
