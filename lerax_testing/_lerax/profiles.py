"""`python -m lerax_testing._lerax.profiles`: record what every algorithm of the
installed Lerax passes to callbacks and write it to `profiles/` (see `_profiles`)."""

from ._profiles import write_profiles

if __name__ == "__main__":
    print(f"wrote {write_profiles()}")
