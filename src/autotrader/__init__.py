"""autotrader: systemd-native daemons that trade Polymarket prediction markets."""

__version__ = "0.1.0"
