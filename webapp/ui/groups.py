"""(being written)"""

from webapp.ui.scoping import scoped_blueprint

groups = scoped_blueprint("groups", __name__)
