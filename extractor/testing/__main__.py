"""``python -m extractor.testing SPEC... CASSETTE_DIR``: rebuild authored cassettes."""

import sys

from extractor.testing.scripted import main

sys.exit(main(sys.argv[1:]))
