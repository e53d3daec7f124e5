"""Signals other domains listen to, so that people never imports them."""
from blinker import Namespace

_signals = Namespace()

#: sent with the person, actor= and source= when a record awaits review
person_submitted = _signals.signal("person-submitted")
#: sent with a form's cleaned data, user= and person= (None for a new record)
#: before a record is saved; receivers return the possible duplicates to warn about
checking_entry = _signals.signal("checking-entry")
#: sent with the person and user= when it was saved although duplicates were shown
entry_confirmed = _signals.signal("entry-confirmed")
#: sent with the connection and people=[(person id, data)] after a bulk insert
people_inserted = _signals.signal("people-inserted")
