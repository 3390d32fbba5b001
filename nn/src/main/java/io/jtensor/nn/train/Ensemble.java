package io.jtensor.nn.train;

import io.jtensor.NDArray;
import io.jtensor.autograd.GradMode;
import io.jtensor.autograd.Tensor;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.Module;
import io.jtensor.nn.data.Batch;
import java.util.Iterator;
import java.util.List;

/**
 * Several trained classifiers voting by averaged probabilities: the ensemble's class probabilities are the mean of
 * the members' softmax outputs (each member in eval mode, without gradients). Members may live on different devices;
 * their outputs are gathered on the input's device.
 */
public final class Ensemble {
    private final List<Module> members;

    public Ensemble(List<? extends Module> members) {
        if (members.isEmpty()) throw new IllegalArgumentException("Ensemble: expected at least one model");
        this.members = List.copyOf(members);
    }

    public List<Module> members() { return members; }

    /** Mean softmax probabilities [N, C] of the members for a batch of inputs; the caller owns the result. */
    public NDArray predictProba(NDArray input) {
        NDArray sum = null;
        try (var g = GradMode.noGrad()) {
            for (Module m : members) {
                boolean wasTraining = m.isTraining();
                m.eval();
                try (MemoryScope scope = MemoryScope.open()) {
                    Tensor out = m.forward(Tensor.wrap(input.to(m.device())));
                    if (out.dim() != 2) {
                        throw new IllegalArgumentException("Ensemble: expected each model to output scores [N, C], got shape "
                                + java.util.Arrays.toString(out.shape()));
                    }
                    try (NDArray p = out.data().softmax(1); NDArray here = p.to(input.device())) {
                        if (sum == null) {
                            sum = scope.keep(here.copy());
                        } else {
                            if (!java.util.Arrays.equals(sum.shape(), here.shape())) {
                                throw new IllegalArgumentException("Ensemble: members disagree on the output shape: "
                                        + java.util.Arrays.toString(sum.shape()) + " vs " + java.util.Arrays.toString(here.shape()));
                            }
                            sum.addInPlace(here);
                        }
                    }
                } finally {
                    m.train(wasTraining);
                }
            }
        } catch (RuntimeException e) {
            if (sum != null) sum.close();
            throw e;
        }
        try (NDArray total = sum) {
            return total.mul(1.0 / members.size());
        }
    }

    /** The class with the highest mean probability for each input row, I64 [N]. */
    public NDArray predict(NDArray input) {
        try (NDArray p = predictProba(input)) {
            return p.argmax(1, false);
        }
    }

    /** Accuracy of the ensemble's predictions over batches of (input, class index). */
    public double accuracy(Iterable<Batch> data) {
        long correct = 0, total = 0;
        Iterator<Batch> it = data.iterator();
        while (true) {
            try (MemoryScope scope = MemoryScope.open()) {
                if (!it.hasNext()) break;
                try (Batch b = it.next(); NDArray p = predictProba(b.get(0)); NDArray y = b.get(1).to(p.device())) {
                    correct += Trainer.countCorrect(p, y);
                    total += p.size(0);
                }
            }
        }
        if (total == 0) throw new IllegalArgumentException("Ensemble.accuracy: the data gave no examples");
        return correct / (double) total;
    }

}
