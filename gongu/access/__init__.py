"""Who may see and do what: which cases an account sees (need to know) and confirming that a decision is
made by the person it names, under their own account (password or key)."""
