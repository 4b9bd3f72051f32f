#!/bin/bash
# Used for the closing note of the architecture issue; see DEVELOPERS.md, "Adding a model".
# (a) places outside a model's own files that name a concrete model type or decide on the model kind;
# (b) places that pick the output distribution from `levels == 2` outside its own type.
cd "${1:-.}"
own='Sources/AutoregModels/(FVSBN|NADE|MADE|PixelCNN|GatedPixelCNN|RowLSTM|DiagonalBiLSTM|PixelRNN)[^/]*\.swift'
echo "== (a) model kind"
grep -rnE 'switch [a-zA-Z.]*kind \{|[kK]ind (==|!=) \.(fvsbn|nade|made|pixelcnn|gatedPixelCNN|rowLSTM|diagonalBiLSTM|pixelCNNPlusPlus)\b|isConvolutional|hasDropout|as[?!] (FVSBN|NADE|MADE|PixelCNN|GatedPixelCNN|RowLSTM|DiagonalBiLSTM|PixelCNNPlusPlus)\b|\bis (FVSBN|NADE|MADE|PixelCNN|GatedPixelCNN|RowLSTM|DiagonalBiLSTM|PixelCNNPlusPlus)\b|(case|==|!=) \.(fvsbn|nade|made|pixelcnn|gatedPixelCNN|rowLSTM|diagonalBiLSTM|pixelCNNPlusPlus)\b|\b(FVSBN|NADE|MADE|PixelCNN|GatedPixelCNN|RowLSTM|DiagonalBiLSTM|PixelCNNPlusPlus)\(' Sources --include=*.swift | grep -vE "^($own)"
echo "== (b) output distribution"
grep -rnE 'levels (==|!=) 2' Sources/AutoregModels Sources/AutoregTraining Sources/autoreg Sources/autoreg-lab --include=*.swift
