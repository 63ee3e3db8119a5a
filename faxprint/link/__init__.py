"""How the printer, the commands and the service reach each other: the socket's messages
(``wire``) and the printer's hand-off of a job into the queue (``handoff``). Standard
library alone, at the bottom of the house: every printed job imports them."""
