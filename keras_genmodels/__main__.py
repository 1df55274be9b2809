import sys

from keras_genmodels.cli import main

sys.exit(main())
