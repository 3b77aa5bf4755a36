"""(being written)"""

from webapp.ui.scoping import scoped_blueprint

bulk = scoped_blueprint("bulk", __name__)
