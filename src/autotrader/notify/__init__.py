"""Notifications: events recorded by every daemon, delivered by the scheduler daemon.

* ``dispatcher.Dispatcher``: plans new events into deliveries and sends what is due (tick-driven).
* ``schedule``: when an event goes out (immediate, hourly, daily; quiet hours; local time).
* ``render`` + ``templates/``: subject, plain text and HTML (autoescaped), webhook JSON.
* ``email`` / ``webhook``: the channels; every failure is a ``TemporaryError`` to retry.
* ``record``: recording an event from a daemon without ever failing the daemon.
* ``sink``: a local SMTP sink (aiosmtpd) for the demo and the tests.
"""
