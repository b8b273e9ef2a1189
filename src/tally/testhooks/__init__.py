"""Test-mode hooks (C23.2): move the clock, run a job now. Absent outside test mode."""
