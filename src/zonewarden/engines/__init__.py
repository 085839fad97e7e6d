"""Pure engines: functions of domain objects, no I/O, no clock (pass today in)."""
