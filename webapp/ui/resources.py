"""(being written)"""

from webapp.ui.scoping import scoped_blueprint

resources = scoped_blueprint("resources", __name__)
