"""The execution monitor (issue 6): see every Tray execution each tick, measure, recover."""
