"""The local SMTP sink: what it records, the refusals it answers, and its command."""
import os
import signal
import smtplib
import subprocess
import sys
import threading
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from registry.outreach.sink import PERMANENT, TEMPORARY, SmtpSink, read_record

SENDER = "lienlac@example.org"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Until registry/outreach/__init__.py imports the command module, import it here; after
# that this is `flask --app wsgi registry smtp-sink ...`
LAUNCH = ("import registry.outreach.cli; from wsgi import app; "
          "app.cli.main(['registry', 'smtp-sink'] + __import__('sys').argv[1:])")


def greeting(n: int = 1, to: str = "an@example.jp") -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Ban liên lạc <{SENDER}>"
    mail["To"] = f"Nguyễn Văn An <{to}>"
    mail["Subject"] = "Chúc mừng năm mới — Tết Nguyên Đán"
    mail["Message-ID"] = f"<{n}.campaign-7@example.org>"
    mail["List-Unsubscribe"] = f"<https://example.org/huy/{n}>, <mailto:huy@example.org>"
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content("Kính gửi anh An, chúc anh và gia đình một năm mới an khang. " * 50)
    return mail.as_bytes(policy=SMTP)


def send(sink, recipients, message: bytes | None = None) -> dict:
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as smtp:
        return smtp.sendmail(SENDER, recipients, message or greeting())


def test_port_zero_picks_a_free_port_for_each_sink():
    with SmtpSink() as first, SmtpSink() as second:
        assert first.port > 0
        assert second.port > 0
        assert first.port != second.port


def test_a_message_sent_with_smtplib_is_recorded_with_its_headers():
    message = greeting(3)

    with SmtpSink() as sink:
        send(sink, ["an@example.jp"], message)

    received, = sink.messages
    assert received.mail_from == SENDER
    assert received.rcpt_tos == ("an@example.jp",)
    assert received.message_id == "<3.campaign-7@example.org>"
    assert received.to == "Nguyễn Văn An <an@example.jp>"
    assert received.subject == "Chúc mừng năm mới — Tết Nguyên Đán"
    assert received.list_unsubscribe == ("<https://example.org/huy/3>, "
                                         "<mailto:huy@example.org>")
    assert received.list_unsubscribe_post == "List-Unsubscribe=One-Click"
    assert received.size == len(message)
    assert received.content is None


def test_headers_in_raw_utf8_are_read_too():
    message = ("From: lienlac@example.org\r\nTo: Lê Thị Hoa <hoa@example.de>\r\n"
               "Subject: Chúc Tết\r\n\r\nKính gửi chị Hoa.\r\n").encode("utf-8")

    with SmtpSink() as sink:
        send(sink, ["hoa@example.de"], message)

    assert sink.messages[0].to == "Lê Thị Hoa <hoa@example.de>"
    assert sink.messages[0].subject == "Chúc Tết"
    assert sink.messages[0].message_id is None


def test_keep_content_keeps_the_whole_message():
    message = greeting()

    with SmtpSink(keep_content=True) as sink:
        send(sink, ["an@example.jp"], message)

    assert sink.messages[0].content == message


def test_every_message_is_a_json_line_in_the_record_while_the_sink_runs(tmp_path):
    record = tmp_path / "sink.jsonl"

    with SmtpSink(record_path=record) as sink:
        send(sink, ["an@example.jp"], greeting(1))
        send(sink, ["binh@example.kr", "chi@example.kr"], greeting(2))
        lines = read_record(record)

    assert [line["message_id"] for line in lines] == ["<1.campaign-7@example.org>",
                                                      "<2.campaign-7@example.org>"]
    assert lines[1]["rcpt_tos"] == ["binh@example.kr", "chi@example.kr"]
    assert lines[0]["subject"] == "Chúc mừng năm mới — Tết Nguyên Đán"
    assert set(lines[0]) == {"received_at", "mail_from", "rcpt_tos", "message_id", "to",
                             "subject", "list_unsubscribe", "list_unsubscribe_post", "size"}


def test_the_record_is_appended_to_by_a_later_sink(tmp_path):
    record = tmp_path / "sink.jsonl"

    for _ in range(2):
        with SmtpSink(record_path=record) as sink:
            send(sink, ["an@example.jp"])

    assert len(read_record(record)) == 2


def test_reading_the_record_skips_a_line_still_being_written(tmp_path):
    record = tmp_path / "sink.jsonl"
    record.write_text('{"size": 1}\n{"si', encoding="utf-8")

    assert read_record(record) == [{"size": 1}]


def test_a_recipient_refused_for_now_gets_451():
    with SmtpSink(refuse=lambda address: TEMPORARY) as sink:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(sink, ["an@example.jp"])

    assert refused.value.recipients["an@example.jp"][0] == 451
    assert sink.messages == []
    assert [(r.stage, r.code, r.recipients) for r in sink.refusals] == [
        ("RCPT", 451, ("an@example.jp",))]


def test_a_recipient_refused_for_good_gets_550_and_the_others_still_receive():
    def refuse(address):
        return PERMANENT if address.startswith("khong-ton-tai") else None

    with SmtpSink(refuse=refuse) as sink:
        refused = send(sink, ["an@example.jp", "khong-ton-tai@example.jp"])

    assert refused == {"khong-ton-tai@example.jp": (550, b"5.1.1 Mailbox unavailable")}
    assert sink.messages[0].rcpt_tos == ("an@example.jp",)


def test_fail_every_answers_every_nth_message_with_451():
    with SmtpSink(fail_every=2) as sink:
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as smtp:
            outcomes = [_outcome(smtp, n) for n in range(1, 6)]

    assert outcomes == [250, 451, 250, 451, 250]
    assert [m.message_id for m in sink.messages] == [f"<{n}.campaign-7@example.org>"
                                                    for n in (1, 3, 5)]
    assert [r.stage for r in sink.refusals] == ["DATA", "DATA"]


def test_fail_every_can_answer_550_instead():
    with SmtpSink(fail_every=1, fail_code=PERMANENT) as sink:
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as smtp:
            assert _outcome(smtp, 1) == 550


def test_fail_every_must_be_positive():
    with pytest.raises(ValueError):
        SmtpSink(fail_every=0)


def test_messages_sent_from_another_thread_can_be_waited_for():
    with SmtpSink() as sink:
        sender = threading.Thread(target=lambda: [send(sink, [f"a{n}@example.jp"])
                                                  for n in range(5)])
        sender.start()
        assert sink.wait_for(5, timeout=10)
        sender.join()

        assert sink.received == 5
        assert not sink.wait_for(6, timeout=0.05)


def test_keep_false_counts_and_records_but_keeps_nothing_in_memory(tmp_path):
    record = tmp_path / "sink.jsonl"

    with SmtpSink(record_path=record, keep=False) as sink:
        send(sink, ["an@example.jp"])

    assert sink.received == 1
    assert sink.messages == []
    assert len(read_record(record)) == 1


def test_clear_forgets_what_is_kept_in_memory():
    with SmtpSink() as sink:
        send(sink, ["an@example.jp"])
        sink.clear()

        assert sink.messages == []
        assert sink.received == 1


def test_the_command_runs_until_terminated_and_prints_a_line_per_message(tmp_path):
    record = tmp_path / "sink.jsonl"
    env = dict(os.environ, REGISTRY_ENV="development",
               DATABASE_URL=f"sqlite:///{tmp_path}/unused.sqlite")
    command = [sys.executable, "-c", LAUNCH, "--port", "0", "--record", str(record)]

    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True) as process:
        try:
            port = _listening_port(process.stdout.readline())
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
                smtp.sendmail(SENDER, ["an@example.jp"], greeting())
            printed = process.stdout.readline()
            lines = read_record(record)
        finally:
            process.send_signal(signal.SIGTERM)
        summary = process.stdout.read()

    assert process.returncode == 0
    assert "an@example.jp" in printed and "Chúc mừng năm mới" in printed
    assert lines[0]["rcpt_tos"] == ["an@example.jp"]
    assert "1 messages received." in summary


def _outcome(smtp, n: int) -> int:
    try:
        smtp.sendmail(SENDER, ["an@example.jp"], greeting(n))
    except smtplib.SMTPDataError as error:
        return error.smtp_code
    return 250


def _listening_port(line: str) -> int:
    assert line.startswith("SMTP sink listening on 127.0.0.1:"), line
    return int(line.split(":")[1].split(";")[0])
