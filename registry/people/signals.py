"""Signals other domains listen to, so that people never imports them."""
from blinker import Namespace

_signals = Namespace()

#: sent with the person, actor= and source= when a record awaits review
person_submitted = _signals.signal("person-submitted")
