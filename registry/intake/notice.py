"""The privacy notice shown on the public form (Law 91/2025/QH15 on personal data).

The wording is versioned: a change to what people agree to needs a new
NOTICE_VERSION, so that each consent row says which text was shown. Keep older
versions' wording in the repository's history; the version is what the rows cite.
"""
from flask_babel import lazy_gettext as _l

NOTICE_VERSION = "2026-12"

CONTROLLER = _l("Department of Foreign Affairs of Thanh Hóa province (Sở Ngoại vụ Thanh Hóa), "
                "Thanh Hóa, Vietnam.")
CONTACT = _l("By e-mail to the department's data protection contact, or in person at "
             "the department. Give your reference number.")

#: (heading, text) in the order the notice shows them
SECTIONS = (
    (_l("Who keeps your data"), CONTROLLER),
    (_l("Why"), _l("To keep a record of the province's people living abroad, so that the "
                   "province can stay in touch, help in emergencies and support its "
                   "community abroad. With your separate agreement, also to send you "
                   "holiday greetings and news, and to share your record with the "
                   "provincial police and your home commune.")),
    (_l("Who receives it"), _l("Officers of the Department of Foreign Affairs. Only if you "
                               "agree: the Thanh Hóa provincial police and the committee "
                               "of your home commune. Nobody else, unless a law requires "
                               "it.")),
    (_l("How long"), _l("As long as you live abroad and agree to it. If you withdraw your "
                        "agreement to keeping the record, it is deleted within 15 days, "
                        "except what a law requires us to keep.")),
    (_l("Your rights"), _l("You may see your data, have it corrected, withdraw any "
                           "agreement at any time, and ask for your data to be deleted. "
                           "Withdrawing one agreement does not affect the others or what "
                           "was done before.")),
    (_l("Contact"), CONTACT),
)

#: consent purposes of the public form, each a separate, unticked box
PURPOSE_LABELS = {
    "record": _l("I agree that the Department of Foreign Affairs keeps this record about "
                 "me (required to register)."),
    "greetings": _l("I would like to receive holiday greetings and news (optional)."),
    "sharing": _l("I agree that my record is shared with the Thanh Hóa provincial police "
                  "and my home commune (optional)."),
}
