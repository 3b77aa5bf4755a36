"""(being written)"""

from webapp.ui.scoping import scoped_blueprint

hierarchy = scoped_blueprint("hierarchy", __name__)
