"""The SMS gateway backends: console and file (number masked), locmem, and Twilio's
Messages API against a real HTTPS server on loopback with a certificate from trustme."""

from __future__ import annotations

import base64
import io
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import trustme

from directory.numbers.sms import SmsMessage, SmsSendError, get_gateway
from directory.numbers.sms.console import ConsoleSmsBackend
from directory.numbers.sms.filebased import FileSmsBackend
from directory.numbers.sms.twilio import TwilioSmsBackend

NUMBER = "+14155550123"
SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-auth-token-for-tests"


def test_console_and_file_backends_mask_the_number(tmp_path):
    stream = io.StringIO()
    ConsoleSmsBackend(stream=stream).send_messages([SmsMessage(NUMBER, "Your code is 123456")])
    assert "Your code is 123456" in stream.getvalue()
    assert "0123" not in stream.getvalue().replace("123456", "") and "•" in stream.getvalue()

    FileSmsBackend(path=str(tmp_path)).send_messages([SmsMessage(NUMBER, "code 654321")])
    (written,) = tmp_path.iterdir()
    text = written.read_text()
    assert "code 654321" in text and "4155550123" not in text


def test_the_gateway_is_chosen_in_settings(settings):
    settings.NUMBER_SMS_BACKEND = "directory.numbers.sms.locmem.LocmemSmsBackend"
    from directory.numbers.sms import locmem

    locmem.outbox.clear()
    assert get_gateway().send_messages([SmsMessage(NUMBER, "hi")]) == 1
    assert locmem.outbox == [SmsMessage(NUMBER, "hi")]
    locmem.outbox.clear()


class _Twilio(BaseHTTPRequestHandler):
    """Twilio's Messages endpoint as the adapter sees it: Basic auth, a form, 201 JSON."""

    received: list[dict] = []
    answer_status = 201

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        form = parse_qs(self.rfile.read(length).decode())
        type(self).received.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), "form": form}
        )
        body = json.dumps({"sid": "SM" + "0" * 32, "status": "queued"}).encode()
        self.send_response(type(self).answer_status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def twilio(settings, tmp_path):
    """A loopback HTTPS server on an ephemeral port, trusted through NUMBER_SMS_CA_BUNDLE."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Twilio)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    settings.NUMBER_SMS_TWILIO_BASE_URL = f"https://127.0.0.1:{server.server_address[1]}"
    settings.NUMBER_SMS_TWILIO_ACCOUNT_SID = SID
    settings.NUMBER_SMS_TWILIO_AUTH_TOKEN = TOKEN
    settings.NUMBER_SMS_TWILIO_FROM = "+15005550006"
    settings.NUMBER_SMS_CA_BUNDLE = str(bundle)
    _Twilio.received = []
    _Twilio.answer_status = 201
    yield _Twilio
    server.shutdown()
    server.server_close()


def test_twilio_posts_the_message_form_with_basic_auth(twilio):
    sent = TwilioSmsBackend().send_messages([SmsMessage(NUMBER, "Your code is 123456")])
    assert sent == 1
    (request,) = twilio.received
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["auth"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request["form"] == {
        "To": [NUMBER],
        "From": ["+15005550006"],
        "Body": ["Your code is 123456"],
    }


def test_twilio_uses_a_messaging_service_when_given_one(twilio, settings):
    settings.NUMBER_SMS_TWILIO_FROM = "MG" + "1" * 32
    TwilioSmsBackend().send_messages([SmsMessage(NUMBER, "x")])
    assert twilio.received[0]["form"]["MessagingServiceSid"] == ["MG" + "1" * 32]


def test_twilio_refusal_is_a_send_error(twilio):
    twilio.answer_status = 400
    with pytest.raises(SmsSendError, match="HTTP 400"):
        TwilioSmsBackend().send_messages([SmsMessage(NUMBER, "x")])


def test_twilio_checks_the_certificate(twilio, settings):
    settings.NUMBER_SMS_CA_BUNDLE = ""  # the system's CAs do not know the test CA
    with pytest.raises(SmsSendError, match="could not be reached"):
        TwilioSmsBackend().send_messages([SmsMessage(NUMBER, "x")])
    assert twilio.received == []


def test_twilio_needs_https_and_credentials(settings):
    settings.NUMBER_SMS_TWILIO_ACCOUNT_SID = SID
    settings.NUMBER_SMS_TWILIO_AUTH_TOKEN = TOKEN
    settings.NUMBER_SMS_TWILIO_FROM = "+15005550006"
    settings.NUMBER_SMS_TWILIO_BASE_URL = "http://127.0.0.1:9"
    with pytest.raises(SmsSendError, match="https"):
        TwilioSmsBackend()
    settings.NUMBER_SMS_TWILIO_AUTH_TOKEN = ""
    with pytest.raises(SmsSendError, match="AUTH_TOKEN"):
        TwilioSmsBackend()
