"""Where the tests find the repository's fixtures and the shared data beside the checkout."""

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
FIXTURES = REPOSITORY / "fixtures"
SHARED = REPOSITORY.parent / "shared"
