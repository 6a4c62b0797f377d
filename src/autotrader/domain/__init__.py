"""The pure trading model: no I/O, no ORM, no HTTP. One module per trading noun."""
