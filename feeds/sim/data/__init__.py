"""Reference data of the demo city: the Dongguan outline (GCJ-02) and its towns."""
