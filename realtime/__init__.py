"""Real-time delivery: events published after commit, fanned out to subscriptions."""
