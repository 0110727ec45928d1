"""What every app's API router shares: the error shape, pagination, the JSON body parser and
the middleware that answers /api/ errors in JSON. It sits below the apps; the API's root
(`tidings.api`) wires their routers together above them."""
