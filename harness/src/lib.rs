//! chatter-harness: scenario → plan → trials → analysis → reports.
