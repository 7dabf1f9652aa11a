"""Tests for `kb ask`."""
