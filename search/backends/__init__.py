"""Search backends behind one interface, chosen by settings.SEARCH_BACKEND."""
