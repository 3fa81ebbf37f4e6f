// What each control does and what to try with it, in the course's words (z = w·a + b, a = g(z), the loss L, the
// step w ← w − η·∂L/∂w). Shown by the pointer on hover and on keyboard focus, and read by screen readers (each
// control's aria-describedby points at its text).

export const TIPS = {
  play: "Run or pause training. Each epoch shows every training point once, in mini-batches; after each batch every "
    + "weight takes a step w ← w − η·∂L/∂w. Try: press it and watch the output picture and the loss curve change.",
  reset: "Start again from new random weights, on the same data (epoch 0). Try: reset a few times and see whether "
    + "training always ends in the same place.",
  step: "Train exactly one epoch, then stop. Try: step slowly at the start, where the weights change the most.",
  learning_rate: "η, the size of each step w ← w − η·∂L/∂w. Too small: the loss barely moves. Too large: it jumps "
    + "around or blows up. Try: 0.003, 0.03 and 3 on the same problem.",
  activation: "g in a = g(z), applied to every hidden neuron's z = w·a + b. Without it (linear) stacked layers are "
    + "still one straight line. Try: linear on the circle, then tanh or ReLU.",
  regularization: "Adds a penalty on large weights to the loss: L1 (λ·Σ|w|) pushes weights to exactly 0, L2 "
    + "(λ·Σw²) shrinks them all. Try: L1 with many features and watch unused links fade.",
  regularization_rate: "λ, how much the weight penalty counts against the data loss. Try: 0.003, then 0.3 — too "
    + "much and the network prefers small weights to fitting the data.",
  problem: "Classification: predict one of two colours (the output is a probability). Regression: predict a number "
    + "(the colour shows its value).",
  loss: "L, the number training makes smaller. Cross-entropy suits classification (it punishes confident mistakes "
    + "hard); squared error (ŷ − y)² suits regression.",
  optimizer: "How a step uses the gradient: SGD steps along −∂L/∂w; momentum keeps some of the previous step; Adam "
    + "scales each weight's step by its gradient's recent size. Try: the spiral with SGD, then Adam.",
  initializer: "The random weights training starts from. Try: zeros — every neuron of a layer then computes the same "
    + "thing and gets the same gradient, forever.",
  dropout: "During training, each hidden neuron's output is set to 0 with this probability (and the rest scaled "
    + "up), so no neuron can rely on another. Try: 0.2 with a big network on noisy data.",
  keep_initial_weights: "When ticked, Reset goes back to the same starting weights, so you can compare settings "
    + "from the same start.",
  datasets: "The data to learn: each point has two coordinates (x₁, x₂) and a colour (its label). Try: the circle "
    + "first, then XOR and the spiral — which need more than a straight line?",
  upload: "Use your own points: a CSV file with columns x1, x2, label.",
  train_percent: "How many of the points the network trains on; the rest are test points it never learns from, to "
    + "check that it generalizes. Try: 10% and compare the test loss with the training loss.",
  noise: "How much the points stray from the pattern. Try: 30 and watch the test loss stop following the training "
    + "loss (overfitting).",
  batch_size: "How many points each step averages its gradient over. Small: noisy, many steps an epoch. Large: "
    + "smooth, few steps. Try: 1 and 30.",
  regenerate: "Draw new points from the same pattern (new noise), keeping the network.",
  "add-layer": "Add a hidden layer: one more a = g(w·a + b) between the features and the output. Try: the spiral "
    + "with one layer, then with four.",
  "remove-layer": "Remove the last hidden layer. With none, the output is g(w·x + b): one straight boundary.",
  network: "Features (left) feed hidden neurons (middle) that feed the output (right). Each box shows what that "
    + "neuron computes over the whole plane; each line is a weight: blue positive, orange negative, thicker = larger "
    + "|w|. Hover a neuron to see its numbers; click a line or a small square (a bias) to edit it.",
  chart: "The loss per epoch: training (grey) and test (black). If the training loss falls while the test loss rises, "
    + "the network is memorizing the training points.",
  heatmap: "What the network outputs at every point of the plane: blue +1, orange −1, the points on top. Hover a "
    + "neuron to see its own picture here.",
  show_test: "Also draw the test points (black rings), which training never sees.",
  discretize: "Show only the decision: the colour of the class the network picks at each point.",
  explain: "Show the hovered neuron's computation with its real numbers: z = Σ w·a + b, then a = g(z), and the "
    + "gradients that training uses to change its weights.",
  export: "The Python code (glassnet, Keras-compatible) that builds and trains this exact network. Try: run it.",
  classroom: "Choose controls to hide; the link (URL) keeps the choice, for a class to start from.",
};

/** Text for a layer's own controls (built with the network). */
export function layerTip(kind, layer) {
  return {
    add: `Add a neuron to hidden layer ${layer + 1}: one more z = w·a + b with its own weights.`,
    remove: `Remove the last neuron of hidden layer ${layer + 1}.`,
    activation: `The activation g of hidden layer ${layer + 1} alone, a = g(z). Try: ReLU in one layer and tanh in `
      + "the others.",
  }[kind];
}
