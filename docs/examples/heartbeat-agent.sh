#!/bin/sh
# A plain heartbeat agent for team-table's `command` wake adapter (docs/runner.md):
#   wake_adapter: {"type": "command", "command": ["sh", "/path/to/heartbeat-agent.sh"]}
# The runner gives it the heartbeat prompt on stdin (and in TEAM_TABLE_PROMPT), and TEAM_TABLE_DB and
# TEAM_TABLE_AGENT, so every `team-table call` below acts as this agent. It takes its mail; with none, it answers
# HEARTBEAT_OK (the run is recorded idle); otherwise it acknowledges the mail (or it would be handed out again),
# marks itself waiting and prints the mail (kept with the run).
set -eu
cat > /dev/null
mail=$(team-table call team_comm '{"action":"mention_check"}')
case $mail in
  *'"count": 0,'*) echo HEARTBEAT_OK; exit 0 ;;
esac
cursor=$(printf '%s\n' "$mail" | sed -n 's/.*"ack_cursor": "\([0-9a-z]*\)".*/\1/p')
team-table call team_comm "{\"action\":\"mention_check\",\"ack\":\"$cursor\"}" > /dev/null
team-table call team_agent '{"action":"working_update","status":"waiting","context":"mail arrived: a person should read it"}' > /dev/null
printf '%s\n' "$mail"
