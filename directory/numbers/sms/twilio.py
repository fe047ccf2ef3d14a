"""Twilio's Programmable Messaging API, over httpx.

``POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`` with HTTP Basic
authentication (Account SID, Auth Token) and a form body ``To``, ``From`` (a number or,
when it starts with ``MG``, a Messaging Service SID) and ``Body``; Twilio answers
201 with the message resource. See Twilio's "Create a Message resource" reference.
The base URL is a setting (``NUMBER_SMS_TWILIO_BASE_URL``), chosen by the operator, never
by a caller, so no request can steer where this backend connects.
"""

from __future__ import annotations

import ssl

import httpx
from django.conf import settings

from directory.numbers.sms import BaseSmsBackend, SmsMessage, SmsSendError

API_VERSION = "2010-04-01"


class TwilioSmsBackend(BaseSmsBackend):
    def __init__(self) -> None:
        self.base_url = settings.NUMBER_SMS_TWILIO_BASE_URL.rstrip("/")
        self.account_sid = settings.NUMBER_SMS_TWILIO_ACCOUNT_SID
        self.auth_token = settings.NUMBER_SMS_TWILIO_AUTH_TOKEN
        self.sender = settings.NUMBER_SMS_TWILIO_FROM
        if not (self.account_sid and self.auth_token and self.sender):
            raise SmsSendError(
                "The Twilio gateway needs NUMBER_SMS_TWILIO_ACCOUNT_SID, "
                "NUMBER_SMS_TWILIO_AUTH_TOKEN and NUMBER_SMS_TWILIO_FROM."
            )
        if not self.base_url.startswith("https://"):
            raise SmsSendError("NUMBER_SMS_TWILIO_BASE_URL must be an https:// URL.")

    def send_messages(self, messages: list[SmsMessage]) -> int:
        url = f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        sender_field = "MessagingServiceSid" if self.sender.startswith("MG") else "From"
        verify: ssl.SSLContext | bool = True
        if settings.NUMBER_SMS_CA_BUNDLE:
            verify = ssl.create_default_context(cafile=settings.NUMBER_SMS_CA_BUNDLE)
        sent = 0
        with httpx.Client(
            auth=(self.account_sid, self.auth_token),
            timeout=settings.NUMBER_SMS_TIMEOUT,
            verify=verify,
            follow_redirects=False,
        ) as client:
            for message in messages:
                try:
                    form = {"To": message.to, sender_field: self.sender, "Body": message.body}
                    response = client.post(url, data=form)
                except httpx.HTTPError as exc:
                    raise SmsSendError(
                        f"The SMS provider could not be reached ({type(exc).__name__})."
                    ) from None
                if response.status_code != 201:
                    raise SmsSendError(
                        f"The SMS provider refused the message (HTTP {response.status_code})."
                    )
                sent += 1
        return sent
