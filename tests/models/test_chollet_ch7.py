"""Chollet's Deep Learning with Python, ch. 7 ("Working with Keras"): the customer-ticket model written the three
ways (functional, subclassed, mixed), with only the import changed, trained from Keras's weights on the same
batches: the same History, evaluate results and predictions as Keras 3."""

import numpy as np

import glassnet as gk
from glassnet import layers
from tests.layers.keras_peer import TOLERANCE, same_logs

VOCABULARY, TAGS, DEPARTMENTS, SAMPLES = 200, 20, 4, 64
RNG = np.random.default_rng(7)
TITLE = RNG.integers(0, 2, size=(SAMPLES, VOCABULARY)).astype("float32")
BODY = RNG.integers(0, 2, size=(SAMPLES, VOCABULARY)).astype("float32")
TAG_DATA = RNG.integers(0, 2, size=(SAMPLES, TAGS)).astype("float32")
PRIORITY = RNG.random(size=(SAMPLES, 1)).astype("float32")
DEPARTMENT = np.eye(DEPARTMENTS, dtype="float32")[RNG.integers(0, DEPARTMENTS, size=SAMPLES)]
INPUTS = {"title": TITLE, "text_body": BODY, "tags": TAG_DATA}


def functional_ticket_model(keras):
    title = keras.Input(shape=(VOCABULARY,), name="title")
    text_body = keras.Input(shape=(VOCABULARY,), name="text_body")
    tags = keras.Input(shape=(TAGS,), name="tags")
    features = keras.layers.Concatenate()([title, text_body, tags])
    features = keras.layers.Dense(64, activation="relu")(features)
    priority = keras.layers.Dense(1, activation="sigmoid", name="priority")(features)
    department = keras.layers.Dense(DEPARTMENTS, activation="softmax", name="department")(features)
    return keras.Model(inputs=[title, text_body, tags], outputs=[priority, department])


def subclassed_ticket_model(keras):
    class CustomerTicketModel(keras.Model):
        def __init__(self, num_departments):
            super().__init__()
            self.concat_layer = keras.layers.Concatenate()
            self.mixing_layer = keras.layers.Dense(64, activation="relu")
            self.priority_scorer = keras.layers.Dense(1, activation="sigmoid")
            self.department_classifier = keras.layers.Dense(num_departments, activation="softmax")

        def call(self, inputs):
            features = self.concat_layer([inputs["title"], inputs["text_body"], inputs["tags"]])
            features = self.mixing_layer(features)
            return self.priority_scorer(features), self.department_classifier(features)

    model = CustomerTicketModel(num_departments=DEPARTMENTS)
    model(INPUTS)
    return model


def mixed_model(keras):
    """A functional model that includes a subclassed layer (ch. 7's "mixing and matching")."""

    class Classifier(keras.Model):
        def __init__(self, num_classes=2):
            super().__init__()
            self.dense = keras.layers.Dense(1 if num_classes == 2 else num_classes,
                                            activation="sigmoid" if num_classes == 2 else "softmax")

        def call(self, inputs):
            return self.dense(inputs)

    inputs = keras.Input(shape=(3,))
    features = keras.layers.Dense(64, activation="relu")(inputs)
    return keras.Model(inputs=inputs, outputs=Classifier(num_classes=10)(features))


def twins(keras, make):
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    km, gm = make(keras), make(gk)
    assert [w.shape for w in gm.get_weights()] == [tuple(w.shape) for w in km.get_weights()]
    gm.set_weights(km.get_weights())
    return km, gm


def train_both(keras, make, x, y, loss, metrics):
    km, gm = twins(keras, make)
    histories, evaluations = [], []
    for k, model in ((keras, km), (gk, gm)):
        model.compile(optimizer=k.optimizers.RMSprop(1e-3), loss=loss, metrics=metrics)
        histories.append(model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0).history)
        evaluations.append(model.evaluate(x, y, verbose=0, return_dict=True))
    for expected, got in (histories, evaluations):
        same_logs(got, expected, rtol=2e-4)
    return km, gm


def test_the_functional_ticket_model(keras):
    km, gm = train_both(keras, functional_ticket_model, [TITLE, BODY, TAG_DATA], [PRIORITY, DEPARTMENT],
                        loss=["mean_squared_error", "categorical_crossentropy"],
                        metrics=[["mean_absolute_error"], ["accuracy"]])
    for got, expected in zip(gm.predict(INPUTS, verbose=0), km.predict(INPUTS, verbose=0), strict=True):
        np.testing.assert_allclose(got, expected, **TOLERANCE)
    assert gm.count_params() == km.count_params()


def test_the_functional_ticket_model_with_dicts(keras):
    train_both(keras, functional_ticket_model, INPUTS, {"priority": PRIORITY, "department": DEPARTMENT},
               loss={"priority": "mean_squared_error", "department": "categorical_crossentropy"},
               metrics={"priority": ["mean_absolute_error"], "department": ["accuracy"]})


def test_the_subclassed_ticket_model(keras):
    train_both(keras, subclassed_ticket_model, INPUTS, [PRIORITY, DEPARTMENT],
               loss=["mean_squared_error", "categorical_crossentropy"],
               metrics=[["mean_absolute_error"], ["accuracy"]])


def test_a_functional_model_with_a_subclassed_model_inside(keras):
    x = RNG.normal(size=(SAMPLES, 3)).astype("float32")
    y = RNG.integers(0, 10, size=SAMPLES)
    train_both(keras, mixed_model, x, y, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
