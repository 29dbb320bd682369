"""The operator desk: support operators take over citizens' conversations in forum topics."""
